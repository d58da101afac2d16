"""A weight combined with a numpy array (`self.kernel * mask`) stays on the autograd graph, as
Keras's Variable (`ops.multiply(value, array)`): keraslike's Keras-layout views went through
numpy and came back detached (the kernel silently stopped training), and weights in torch's
layout failed with "Can't call numpy() on Tensor that requires grad"."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _train(lib, initial=None):
    class Masked(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(3, use_bias=False)

        def build(self, input_shape):
            self.dense.build(input_shape)
            self.mask = np.tril(np.ones((input_shape[-1], 3)))  # float64, as the examples' masks
            self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")

        def call(self, x):
            # A view in Keras's layout (the Dense kernel) and a plain weight, each times an array.
            kernel = self.dense.kernel * self.mask
            return lib.ops.matmul(x, lib.ops.cast(kernel, "float32")) * (self.scale + np.ones(3, "float32"))

    inputs = lib.Input((4,))
    model = lib.Model(inputs, Masked()(inputs))
    if initial is not None:
        model.set_weights(initial)
    start = [np.array(w) for w in model.get_weights()]
    model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 3)).astype("float32")
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    return start, history.history["loss"], model.get_weights()


def test_weight_times_array_trains_like_keras():
    start, expected, their_weights = _train(keras)
    _, losses, our_weights = _train(keraslike, start)
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    for ours, theirs in zip(our_weights, their_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(our_weights[0], start[0])  # the masked kernel trained


def test_results_have_keras_types():
    for lib in (keras, keraslike):
        dense = lib.layers.Dense(2)
        dense.build((None, 3))
        product = dense.kernel * np.ones((3, 2))  # float64 array: float64 tensor, with grad
        assert product.requires_grad and str(product.dtype) == "torch.float64", lib.__name__
        reverse = np.ones((3, 2)) * dense.kernel  # numpy first: numpy's detached array
        assert isinstance(reverse, np.ndarray) and reverse.dtype == np.float64, lib.__name__
        np.testing.assert_allclose(reverse, product.detach().numpy())
