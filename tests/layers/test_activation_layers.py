"""Activation layers against Keras 3: outputs, configs, Softmax masks, PReLU weights, gradients."""

import numpy as np
import pytest
import torch

from keraslike import layers
from tests.layer_harness import check_layer

CASES = [
    ("ReLU", {}, (3, 4)),
    ("ReLU", {"max_value": 6.0}, (3, 4)),
    ("ReLU", {"negative_slope": 0.1}, (3, 4)),
    ("ReLU", {"threshold": 0.5}, (3, 4)),
    ("ReLU", {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.3}, (2, 3, 4)),
    ("LeakyReLU", {}, (3, 4)),
    ("LeakyReLU", {"negative_slope": 0.05}, (2, 3, 4)),
    ("ELU", {}, (3, 4)),
    ("ELU", {"alpha": 0.5}, (2, 3, 4)),
    ("Softmax", {}, (3, 4)),
    ("Softmax", {"axis": 1}, (2, 3, 4)),
    ("Softmax", {"axis": [1, 2]}, (2, 3, 4)),
    ("Softmax", {"axis": (-1,)}, (2, 3, 4)),
    ("PReLU", {"alpha_initializer": "random_normal"}, (3, 4)),
    ("PReLU", {"alpha_initializer": "random_normal", "shared_axes": [1, 2]}, (2, 3, 4, 5)),
    ("PReLU", {"alpha_initializer": "random_normal", "shared_axes": 1}, (2, 3, 4)),
    ("PReLU", {}, (2, 3, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_activation_layer_parity(name, kwargs, shape):
    check_layer(name, kwargs, shape)


def test_leaky_relu_default_slope_is_keras_3s():
    out = layers.LeakyReLU()(torch.tensor([-1.0, 2.0]))
    torch.testing.assert_close(out, torch.tensor([-0.3, 2.0]))
    with pytest.warns(UserWarning, match="alpha"):
        old = layers.LeakyReLU(alpha=0.1)
    assert old.negative_slope == 0.1


@pytest.mark.parametrize(
    "shape,mask_shape,mask_dtype",
    [
        ((2, 3, 5), (2, 3, 5), "bool"),
        ((2, 4, 3, 5), (2, 1, 1, 5), "bool"),  # attention-style broadcast mask
        ((2, 3, 5), (5,), "bool"),
        ((2, 3, 5), (2, 3, 5), "float32"),
        ((2, 3, 5), (2, 3, 5), "int32"),
    ],
)
def test_softmax_mask_matches_keras(shape, mask_shape, mask_dtype):
    import keras

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    mask = (rng.random(mask_shape) > 0.4).astype(mask_dtype)
    if mask_dtype == "float32":
        mask = mask * 0.9  # Keras treats > 0.5 as kept
    expected = keras.layers.Softmax()(keras.ops.convert_to_tensor(x),
                                      mask=keras.ops.convert_to_tensor(mask))
    out = layers.Softmax()(torch.as_tensor(x), mask=torch.as_tensor(mask))
    np.testing.assert_allclose(out.numpy(), expected.cpu().numpy(), rtol=1e-6, atol=1e-7)


def test_softmax_fully_masked_row_and_float16():
    x = torch.randn(2, 4)
    mask = torch.tensor([[True, False, True, False], [False, False, False, False]])
    out = layers.Softmax()(x, mask=mask)
    assert torch.equal(out[1], torch.zeros(4))
    torch.testing.assert_close(out[0].sum(), torch.tensor(1.0))
    half = layers.Softmax(dtype="float16")(x.half(), mask=mask)  # a float32 layer casts, as Keras
    assert half.dtype == torch.float16 and torch.isfinite(half).all()


def test_softmax_rejects_non_broadcastable_masks():
    with pytest.raises(ValueError, match=r'layer "softmax".*mask.shape=\(3, 5\)'):
        layers.Softmax()(torch.zeros(2, 3, 4), mask=torch.ones(3, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(torch.zeros(3, 4), mask=torch.ones(2, 3, 4, dtype=torch.bool))


def test_prelu_weights_shapes_and_gradcheck():
    layer = layers.PReLU(shared_axes=[1, 2], alpha_initializer="random_uniform", dtype="float64")
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert layer.alpha.shape == (1, 1, 5)
    assert [n for n, _ in layer.named_parameters()] == ["alpha"]
    assert torch.autograd.gradcheck(lambda inp, alpha: layer(inp), (x, layer.alpha))
    with pytest.raises(ValueError, match="p_re_lu"):
        layer(torch.randn(2, 3, 4, 6, dtype=torch.float64))


@pytest.mark.parametrize(
    "make,argument",
    [
        (lambda: layers.ReLU(max_value=-1.0), "max_value"),
        (lambda: layers.ReLU(negative_slope=-0.1), "negative_slope"),
        (lambda: layers.ReLU(negative_slope=None), "negative_slope"),
        (lambda: layers.ReLU(threshold=-2), "threshold"),
        (lambda: layers.LeakyReLU(negative_slope=-0.3), "negative_slope"),
    ],
)
def test_bad_arguments_are_value_errors(make, argument):
    with pytest.raises(ValueError, match=rf'`{argument}` of layer "\w+".*{argument}='):
        make()


@pytest.mark.parametrize("shared_axes", [[0], [3], ["a"]])
def test_prelu_rejects_bad_shared_axes(shared_axes):
    with pytest.raises(ValueError, match=r'`shared_axes` of layer "p_re_lu"'):
        layers.PReLU(shared_axes=shared_axes)(torch.zeros(2, 3, 4))
