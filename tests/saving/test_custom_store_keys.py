"""A layer whose `save_own_variables` writes named keys (`store["variables"]`), as Keras allows."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _model(lib):
    class Scaled(lib.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight((2,), initializer="ones")

        def call(self, x):
            return x * self.w

        def save_own_variables(self, store):
            store["variables"] = lib.ops.convert_to_numpy(self.w) * 3

        def load_own_variables(self, store):
            self.w.assign(store["variables"][...])

    inputs = lib.Input((2,))
    return lib.Model(inputs, Scaled()(inputs))


@pytest.mark.parametrize("writer,reader", [(keraslike, keraslike), (keraslike, keras), (keras, keraslike)])
def test_named_store_keys_save_and_load_as_keras(tmp_path, writer, reader):
    path = str(tmp_path / "m.weights.h5")
    _model(writer).save_weights(path)
    model = _model(reader)
    model.load_weights(path)
    np.testing.assert_array_equal(reader.ops.convert_to_numpy(model.layers[1].w), [3.0, 3.0])
