"""A `keras.Variable` a layer holds is saved and loaded like its other weights, in Keras's place,
both ways with Keras 3: keraslike's `.keras` / `.weights.h5` files left it out (a round trip
silently restored its initial value) and refused Keras's files ("has 1 weights, the file 2")."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _model(lib):
    @lib.saving.register_keras_serializable(package="variables_in_files")
    class Holder(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = lib.Variable(np.ones((3,)), name="scale", dtype="float32")

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), name="w")

        def call(self, x):
            return lib.ops.matmul(x, self.w) * self.scale

    inputs = lib.Input((2,))
    return lib.Model(inputs, Holder(name="holder")(inputs))


_VALUES = [np.array([1.0, -2.0, 3.0], "float32"), np.arange(6, dtype="float32").reshape(2, 3)]
_X = np.array([[1.0, 2.0]], "float32")
_EXPECTED = (_X @ _VALUES[1]) * _VALUES[0]


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize("writer,reader", [(keraslike, keraslike), (keraslike, keras), (keras, keraslike)])
def test_variable_round_trips(tmp_path, suffix, writer, reader):
    saved = _model(writer)
    saved.set_weights(_VALUES)
    path = str(tmp_path / f"model{suffix}")
    if suffix == ".keras":
        saved.save(path)
        _model(reader)  # registers the class in the reading library
        loaded = reader.models.load_model(path)
    else:
        saved.save_weights(path)
        loaded = _model(reader)
        loaded.load_weights(path)
    np.testing.assert_allclose(loaded.predict(_X, verbose=0), _EXPECTED, rtol=1e-6)


def test_variable_round_trips_native(tmp_path):
    saved = _model(keraslike)
    saved.set_weights(_VALUES)
    path = str(tmp_path / "model.safetensors")
    saved.save(path)
    loaded = keraslike.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(_X, verbose=0), _EXPECTED, rtol=1e-6)
