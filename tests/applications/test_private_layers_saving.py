"""Models holding the applications' private layers (ConvNeXt's LayerScale and StochasticDepth,
Inception-ResNet's CustomScaleLayer) save and load, also from files Keras 3 wrote."""

import numpy as np
import pytest

import keraslike as keras
from keraslike.applications import private_layers
from keraslike.serialization import registry


def _small_model():
    inputs = keras.Input((4, 4, 8))
    x = private_layers.LayerScale(0.5, 8, name="scale")(inputs)
    x = private_layers.StochasticDepth(0.1, name="drop_path")(x)
    x = private_layers.CustomScaleLayer(0.2, name="residual")([inputs, x])
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


@pytest.mark.parametrize("suffix", [".keras", ".safetensors"])
def test_private_layers_round_trip(tmp_path, suffix):
    model = _small_model()
    x = np.random.default_rng(0).random((2, 4, 4, 8), dtype=np.float32)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.get_layer("scale")) is private_layers.LayerScale
    assert type(loaded.get_layer("residual")) is private_layers.CustomScaleLayer
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_keras_module_names_resolve_and_unknown_names_still_fail():
    config = {"class_name": "LayerScale", "module": "keras.src.applications.convnext", "registered_name": None}
    assert registry.resolve_class(config) is private_layers.LayerScale
    config = {"class_name": "CustomScaleLayer", "module": "keras.src.applications.inception_resnet_v2",
              "registered_name": None}
    assert registry.resolve_class(config) is private_layers.CustomScaleLayer
    with pytest.raises(TypeError, match="NoSuchLayer"):
        registry.resolve_class({"class_name": "NoSuchLayer", "module": "keras.src.applications.convnext",
                                "registered_name": None})


@pytest.mark.slow
def test_convnext_saved_by_keras_loads(tmp_path):
    keras3 = pytest.importorskip("keras")
    theirs = keras3.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=3)
    path = tmp_path / "convnext.keras"
    theirs.save(path)
    ours = keras.models.load_model(path)
    x = np.random.default_rng(1).random((1, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), atol=1e-5)
