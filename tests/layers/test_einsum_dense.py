"""EinsumDense against Keras 3: shapes, weights, initialization fans, outputs, gradients, errors."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import initializers, layers
from tests.layer_harness import check_layer

CASES = [
    ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}, (2, 3)),
    ({"equation": "ab,bc->ac", "output_shape": 4, "activation": "relu"}, (2, 3)),
    ({"equation": "abc,cd->abd", "output_shape": (None, 6), "bias_axes": "d"}, (2, 3, 5)),
    ({"equation": "abc,cde->abde", "output_shape": (None, 2, 3), "bias_axes": "de"}, (2, 4, 5)),
    ({"equation": "abc,cde->abde", "output_shape": (4, 2, 3), "bias_axes": "e"}, (2, 4, 5)),
    ({"equation": "abcd,cde->abe", "output_shape": (None, 6), "bias_axes": "e"}, (2, 3, 4, 5)),
    ({"equation": "...b,bc->...c", "output_shape": 6, "bias_axes": "c"}, (2, 4, 5)),
    ({"equation": "...b,bc->...c", "output_shape": 6}, (2, 3, 4, 5)),
    ({"equation": "ab...,bc->ac...", "output_shape": (6,), "bias_axes": "c"}, (2, 4, 5)),
    ({"equation": "abc,bcd->ad", "output_shape": 3, "bias_axes": "d",
      "activation": "tanh"}, (2, 4, 5)),
]


@pytest.mark.parametrize("kwargs,shape", CASES, ids=[c[0]["equation"] for c in CASES])
def test_einsum_dense_parity(kwargs, shape):
    ours, theirs, _, _ = check_layer("EinsumDense", kwargs, shape, rtol=1e-5, atol=1e-5)
    assert [tuple(w.shape) for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]


def test_kernel_initializer_uses_einsum_fans_like_keras():
    import keras

    kwargs = {"equation": "abc,cde->abde", "output_shape": (None, 4, 8), "bias_axes": "de"}
    ours = layers.EinsumDense(kernel_initializer=initializers.GlorotUniform(seed=7), **kwargs)
    theirs = keras.layers.EinsumDense(kernel_initializer=keras.initializers.GlorotUniform(seed=7),
                                      **kwargs)
    ours.build((None, 3, 16))
    theirs.build((None, 3, 16))
    np.testing.assert_allclose(ours.get_weights()[0], theirs.get_weights()[0], rtol=1e-6)
    # fans: input axes (c,) = 16, output axes (d, e) = 32, not the 3D-conv reading of the shape
    limit = np.sqrt(6 / (16 + 32))
    kernel = ours.get_weights()[0]
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert ours.kernel_initializer.input_axes is None  # the config keeps the user's initializer
    assert ours.get_config()["kernel_initializer"]["config"]["input_axes"] is None


def test_weights_are_named_and_stored_in_keras_layout():
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    out = layer(keraslike.Input((4, 5)))
    assert out.shape == (None, None, 2, 3)  # Keras keeps the `None` given in output_shape
    assert [n for n, _ in layer.named_parameters()] == ["kernel", "bias"]
    assert layer.kernel.shape == (5, 2, 3) and layer.bias.shape == (2, 3)
    assert layer.count_params() == 5 * 6 + 6


def test_einsum_dense_gradcheck():
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="e",
                               activation="tanh", dtype="float64")
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert torch.autograd.gradcheck(lambda inp, *_: layer(inp), (x, layer.kernel, layer.bias))


@pytest.mark.parametrize(
    "kwargs,shape,message",
    [
        ({"equation": "ab->b", "output_shape": 3}, None,
         r"Invalid einsum equation 'ab->b' \(layer \"einsum_dense\"\)"),
        ({"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "x"}, (2, 4),
         r"Bias dimension 'x'.*\(layer \"einsum_dense\"\)"),
        ({"equation": "abc,cd->abd", "output_shape": (5, 6)}, (2, 4, 3),
         "do not match at shared dimension 'b'"),
        ({"equation": "ab,bcd->ac", "output_shape": 3}, (2, 4), "Weight dimension 'd'"),
        ({"equation": "ab,bc->ac", "output_shape": (3, 4)}, (2, 4), "does not match the output"),
    ],
)
def test_bad_equations_are_value_errors(kwargs, shape, message):
    with pytest.raises(ValueError, match=message):
        layer = layers.EinsumDense(**kwargs)
        layer(torch.zeros(shape))
