"""Errors raised by a layer's own `load_own_variables` / `load_assets`, and layers whose number
of variables differs from the file's: reported as Keras 3's `saving_lib` reports them (one
`ValueError` naming every object that could not be loaded, the others still loaded; a warning
with `skip_mismatch=True`), not as corrupt HDF5 data. Compared with Keras 3."""

import os
import warnings

import numpy as np
import pytest

import keraslike

X = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")


def _failing_class(lib, error, where):
    class Failing(lib.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), name="w")

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w)

    if where in ("variables", "load only"):
        def load_own_variables(self, store):
            raise error("the store is not what this layer wrote")

        Failing.load_own_variables = load_own_variables
    if where == "variables":
        def save_own_variables(self, store):
            store["0"] = lib.ops.convert_to_numpy(self.w)

        Failing.save_own_variables = save_own_variables
    if where == "assets":
        def save_assets(self, path):
            with open(os.path.join(path, "vocabulary.txt"), "w") as f:
                f.write("a\nb\n")

        def load_assets(self, path):
            raise error("the vocabulary is unreadable")

        Failing.save_assets, Failing.load_assets = save_assets, load_assets
    return Failing


def _model(lib, failing):
    inputs = lib.Input((3,))
    hidden = lib.layers.Dense(3, name="dense_ok")(inputs)
    return lib.Model(inputs, failing(name="failing")(hidden))


def _raised(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return error
    return None


@pytest.mark.parametrize("where", ["variables", "load only", "assets"])
@pytest.mark.parametrize("error", [RuntimeError, KeyError, ValueError, OSError])
def test_a_layers_own_loading_error_is_reported_as_keras_does(keras_oracle, tmp_path, where, error):
    keras = keras_oracle
    results = {}
    for lib in (keras, keraslike):
        failing = _failing_class(lib, error, where)
        model = _model(lib, failing)
        path = str(tmp_path / f"{lib.__name__}.keras")
        model.save(path)
        results[lib] = _raised(lambda: lib.saving.load_model(path, custom_objects={"Failing": failing}))
    theirs, ours = results[keras], results[keraslike]
    assert type(ours) is type(theirs) is ValueError
    message = str(ours)
    assert str(theirs).startswith("A total of 1 objects could not be loaded")
    assert message.startswith("A total of 1 objects could not be loaded")
    assert "keraslike.keras" in message  # the file
    assert "<Failing name=failing, built=True>" in message and "<Failing name=failing" in str(theirs)
    method = "load_assets" if where == "assets" else "load_own_variables"
    assert f"`{method}` of Failing 'failing': {error.__name__}: " in message  # the original error
    assert "corrupt" not in message
    assert isinstance(ours.__cause__, error)


@pytest.mark.parametrize("where", ["variables", "load only"])
def test_load_weights_reports_every_failing_layer_and_loads_the_others(keras_oracle, tmp_path, where):
    keras = keras_oracle
    for lib in (keras, keraslike):
        failing = _failing_class(lib, RuntimeError, where)
        source, target = _model(lib, failing), _model(lib, failing)
        path = str(tmp_path / f"{lib.__name__}.weights.h5")
        source.save_weights(path)
        error = _raised(lambda: target.load_weights(path))
        assert type(error) is ValueError, lib.__name__
        assert "A total of 1 objects could not be loaded" in str(error)
        assert "<Failing name=failing, built=True>" in str(error)
        # The layer that loads fine was loaded (Keras tries every object).
        for want, got in zip(source.get_layer("dense_ok").get_weights(),
                             target.get_layer("dense_ok").get_weights()):
            np.testing.assert_array_equal(got, want)
        with pytest.warns(UserWarning, match="could not be loaded"):
            target.load_weights(path, skip_mismatch=True)


@pytest.mark.parametrize("file_bias,model_bias", [(True, False), (False, True)])
def test_a_layer_with_another_number_of_variables_is_named_as_keras_does(
        keras_oracle, tmp_path, file_bias, model_bias):
    keras = keras_oracle
    errors = {}
    for lib in (keras, keraslike):
        def model(bias):
            inputs = lib.Input((3,))
            return lib.Model(inputs, lib.layers.Dense(2, use_bias=bias, name="d")(inputs))

        path = str(tmp_path / f"{lib.__name__}.weights.h5")
        model(file_bias).save_weights(path)
        errors[lib] = _raised(lambda: model(model_bias).load_weights(path))
    expected_names = ["kernel", "bias"] if model_bias else ["kernel"]
    keras_text = (f"Layer 'd' expected {len(expected_names)} variables, but received "
                  f"{2 if file_bias else 1} variables during loading. Expected: {expected_names}")
    assert type(errors[keraslike]) is type(errors[keras]) is ValueError
    assert keras_text in str(errors[keras])
    assert keras_text in str(errors[keraslike])


def _negating_class(lib):
    class Negating(lib.layers.Layer):
        """Overrides only `save_own_variables` (Keras's default `load_own_variables` reads)."""

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), name="w")

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w)

        def save_own_variables(self, store):
            store["0"] = -lib.ops.convert_to_numpy(self.w)

    return Negating


def test_a_save_only_override_is_called_and_keras_default_load_used(keras_oracle, tmp_path):
    h5py = pytest.importorskip("h5py")
    keras = keras_oracle
    weights = np.arange(6, dtype="float32").reshape(3, 2)
    stored, loaded = {}, {}
    for lib in (keras, keraslike):
        negating = _negating_class(lib)
        model = _model(lib, negating)
        model.get_layer("failing").set_weights([weights])
        path = str(tmp_path / f"{lib.__name__}.weights.h5")
        model.save_weights(path)
        with h5py.File(path, "r") as f:
            stored[lib] = np.asarray(f["layers/negating/vars/0"])
        fresh = _model(lib, negating)
        fresh.load_weights(path)
        loaded[lib] = fresh.get_layer("failing").get_weights()[0]
    np.testing.assert_array_equal(stored[keras], -weights)  # the override wrote the file
    np.testing.assert_array_equal(stored[keraslike], stored[keras])
    np.testing.assert_array_equal(loaded[keraslike], loaded[keras])
