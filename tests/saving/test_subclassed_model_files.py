"""A subclassed model built by `fit` saves the shape it was built with (`build_config`) and is
rebuilt from it on loading, as in Keras: keraslike wrote none, so its own `.keras` files failed
to load ("d1 (dense_1): 2 variables in the file vs 0 in the model"). Both ways with Keras 3.
Also: a layer's `build` called directly records its arguments for `get_build_config`, as Keras's
build wrapper does (it recorded nothing, so such layers were saved without a build config)."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

_X = np.array([[1.0, 2.0]], "float32")


def _trained(lib):
    @lib.saving.register_keras_serializable(package="subclassed_files")
    class Net(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = lib.layers.Dense(3)

        def call(self, x):
            return self.d1(x)

    model = Net()
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 3), "float32"), verbose=0)
    return model


@pytest.mark.parametrize("writer,reader", [(keraslike, keraslike), (keraslike, keras), (keras, keraslike)])
def test_subclassed_model_round_trips(tmp_path, writer, reader):
    model = _trained(writer)
    assert model.get_build_config() == {"input_shape": (4, 2)}
    path = str(tmp_path / "net.keras")
    model.save(path)
    _trained(reader)  # registers the class in the reading library
    restored = reader.models.load_model(path)
    np.testing.assert_allclose(restored.predict(_X, verbose=0), model.predict(_X, verbose=0), rtol=1e-6)


def test_direct_build_records_its_arguments_as_keras():
    def configs(lib):
        class TwoArgs(lib.layers.Layer):
            def build(self, input_shape, layer_init):
                super().build(input_shape)
                self.w = self.add_weight(shape=(input_shape[-1], 2), initializer=layer_init)

        class OneArg(lib.layers.Layer):
            def build(self, shape):
                self.w = self.add_weight(shape=(shape[-1], 2))

        two, one = TwoArgs(), OneArg()
        two.build(input_shape=(8,), layer_init="zeros")
        one.build((None, 3))
        return two.get_build_config(), one.get_build_config()

    ours, theirs = configs(keraslike), configs(keras)
    assert ours == theirs
    assert ours[0] == {"shapes_dict": {"input_shape": (8,), "layer_init": "zeros"}}
