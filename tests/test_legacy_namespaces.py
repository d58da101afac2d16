"""`keras.legacy.saving` and `keras.optimizers.legacy` behave as in Keras 3."""

import pytest

import keraslike


def test_legacy_saving_is_the_legacy_serialization_format():
    layer = keraslike.layers.Dense(3, activation="relu", name="d")
    config = keraslike.legacy.saving.serialize_keras_object(layer)
    assert sorted(config) == ["class_name", "config"] and config["class_name"] == "Dense"
    rebuilt = keraslike.legacy.saving.deserialize_keras_object(
        config, module_objects={"Dense": keraslike.layers.Dense}
    )
    assert isinstance(rebuilt, keraslike.layers.Dense) and rebuilt.units == 3
    assert keraslike.legacy.saving.serialize_keras_object is keraslike.utils.legacy.serialize_keras_object


def test_legacy_saving_config_matches_keras():
    keras = pytest.importorskip("keras")
    ours = keraslike.legacy.saving.serialize_keras_object(keraslike.layers.Dense(3, name="d"))
    theirs = keras.legacy.saving.serialize_keras_object(keras.layers.Dense(3, name="d"))
    assert ours["class_name"] == theirs["class_name"]
    assert ours["config"]["units"] == theirs["config"]["units"]


@pytest.mark.parametrize("name", ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"])
def test_legacy_optimizers_raise_import_error_as_keras(name):
    keras = pytest.importorskip("keras")
    with pytest.raises(ImportError, match="not supported in Keras 3"):
        getattr(keras.optimizers.legacy, name)(learning_rate=0.1)
    with pytest.raises(ImportError, match=r"not supported in Keras 3.*keras\.optimizers\.Adam"):
        getattr(keraslike.optimizers.legacy, name)(learning_rate=0.1)
