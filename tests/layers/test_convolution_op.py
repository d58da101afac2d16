"""`BaseConv.convolution_op(inputs, kernel)`: Keras's extension point for conv subclasses.

Checked against Keras 3 with the same weights: the default op (what `call` runs before the bias
and activation), a subclass overriding it (`call` routes through the override), and a subclass
calling it from its own `call` (keras-io's `subclassing_conv_layers`). As in Keras 3, Conv1D's
`call` convolves directly: an override of its `convolution_op` is used only when called."""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _standardized(lib, base):
    class Standardized(base):
        def convolution_op(self, inputs, kernel):
            mean, var = lib.ops.moments(kernel, axes=list(range(kernel.ndim - 1)), keepdims=True)
            return super().convolution_op(inputs, (kernel - mean) / lib.ops.sqrt(var + 1e-10))

    return Standardized


def _calls_op(lib, base):
    class CallsOp(base):
        def call(self, inputs):
            return self.convolution_op(inputs, self.kernel * 2.0)

    return CallsOp


def _pair(factory, name, kwargs, input_shape):
    ours = factory(keraslike, getattr(keraslike.layers, name))(**kwargs) if factory else getattr(keraslike.layers, name)(**kwargs)
    theirs = factory(keras, getattr(keras.layers, name))(**kwargs) if factory else getattr(keras.layers, name)(**kwargs)
    x = np.random.default_rng(0).normal(size=input_shape).astype("float32")
    theirs(x)
    ours.build(input_shape)
    ours.set_weights([keras.ops.convert_to_numpy(w) for w in theirs.get_weights()])
    return ours, theirs, x


CASES = [
    ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}, (2, 7, 7, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 2, "strides": 2, "padding": "same", "groups": 2}, (2, 6, 6, 4)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2}, (2, 9, 2)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, (2, 3, 6, 6)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "use_bias": False}, (1, 4, 4, 4, 2)),
]


@pytest.mark.parametrize("factory", [None, _standardized, _calls_op], ids=["default", "override", "from_call"])
@pytest.mark.parametrize("name,kwargs,input_shape", CASES)
def test_convolution_op_matches_keras(factory, name, kwargs, input_shape):
    ours, theirs, x = _pair(factory, name, kwargs, input_shape)
    expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    if factory is None:
        op_ours = ours.convolution_op(torch.from_numpy(x), ours.kernel).detach().numpy()
        op_theirs = keras.ops.convert_to_numpy(theirs.convolution_op(x, theirs.kernel))
        np.testing.assert_allclose(op_ours, op_theirs, rtol=1e-5, atol=1e-5)


def test_an_overridden_op_trains_inside_a_model():
    layer = _standardized(keraslike, keraslike.layers.Conv2D)(2, 3)
    inputs = keraslike.Input((6, 6, 1))
    model = keraslike.Model(inputs, keraslike.layers.Flatten()(layer(inputs)))
    model.compile(loss="mse", optimizer="sgd")
    before = layer.kernel.detach().clone()
    x = np.random.default_rng(1).random((4, 6, 6, 1)).astype("float32")
    model.fit(x, np.zeros((4, 32), "float32"), verbose=0)
    assert model.output_shape == (None, 32)
    assert not torch.equal(before, layer.kernel.detach())
