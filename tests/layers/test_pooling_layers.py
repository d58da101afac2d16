"""Parity of the pooling layers with Keras 3, TensorFlow "same" semantics, masks and bad inputs."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import check_layer

CL, CF = "channels_last", "channels_first"

POOL_CASES = [
    ("MaxPooling2D", {}, (2, 6, 7, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2}, (2, 7, 8, 3)),
    ("MaxPooling2D", {"pool_size": 2, "padding": "same"}, (2, 7, 8, 3)),  # odd size, stride 2
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 8, 8, 3)),  # even
    ("MaxPooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 6, 3)),
    ("MaxPooling2D", {"pool_size": 2, "strides": 1, "padding": "same"}, (2, 5, 6, 3)),
    ("MaxPooling2D", {"pool_size": (2, 3), "data_format": CF}, (2, 3, 6, 7)),
    ("MaxPooling2D", {"pool_size": 2, "padding": "same", "data_format": CF}, (2, 3, 5, 7)),
    ("MaxPooling1D", {}, (2, 7, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 8, 3)),
    ("MaxPooling1D", {"pool_size": 2, "data_format": CF}, (2, 3, 7)),
    ("MaxPooling3D", {}, (1, 4, 5, 6, 2)),
    ("MaxPooling3D", {"pool_size": 2, "padding": "same", "data_format": CF}, (1, 2, 3, 5, 4)),
    ("AveragePooling2D", {"pool_size": 2}, (2, 6, 7, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 3)),
    ("AveragePooling2D", {"pool_size": 2, "padding": "same"}, (2, 7, 5, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same", "data_format": CF},
     (2, 3, 5, 6)),
    ("AveragePooling1D", {"pool_size": 3}, (2, 7, 3)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same", "data_format": CF},
     (2, 3, 9)),
    ("AveragePooling3D", {"pool_size": 2}, (1, 4, 5, 6, 2)),
    ("AveragePooling3D", {"pool_size": 3, "strides": 2, "padding": "same"}, (1, 5, 5, 3, 2)),
    ("GlobalMaxPooling2D", {}, (2, 5, 6, 3)),
    ("GlobalMaxPooling2D", {"keepdims": True, "data_format": CF}, (2, 3, 5, 6)),
    ("GlobalAveragePooling2D", {}, (2, 5, 6, 3)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (2, 5, 6, 3)),
    ("GlobalAveragePooling2D", {"data_format": CF}, (2, 3, 5, 6)),
    ("GlobalMaxPooling1D", {}, (2, 5, 3)),
    ("GlobalMaxPooling1D", {"keepdims": True, "data_format": CF}, (2, 3, 5)),
    ("GlobalAveragePooling1D", {}, (2, 5, 3)),
    ("GlobalAveragePooling1D", {"keepdims": True, "data_format": CF}, (2, 3, 5)),
    ("GlobalMaxPooling3D", {"keepdims": True}, (1, 3, 4, 5, 2)),
    ("GlobalAveragePooling3D", {"data_format": CF}, (1, 2, 3, 4, 5)),
    ("MaxPool2D", {"padding": "same"}, (1, 5, 5, 2)),
    ("AvgPool1D", {"pool_size": 2}, (1, 5, 2)),
]


@pytest.mark.parametrize(
    "name,kwargs,shape", POOL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL_CASES)]
)
def test_pooling_parity(name, kwargs, shape):
    check_layer(name, kwargs, shape)


def _tf_same_avg_pool_1d(x, pool, stride):
    """Reference: TensorFlow's "same" average pooling (padding excluded from the mean)."""
    n = x.shape[1]
    out = -(-n // stride)
    total = max((out - 1) * stride + pool - n, 0)
    start = -(total // 2)
    result = []
    for i in range(out):
        lo, hi = max(start + i * stride, 0), min(start + i * stride + pool, n)
        result.append(x[:, lo:hi].mean(axis=1))
    return np.stack(result, axis=1)


@pytest.mark.parametrize("pool,stride,n", [(4, 1, 7), (2, 1, 5), (4, 3, 8), (2, 2, 7), (3, 2, 8)])
def test_average_pooling_same_excludes_padding_like_tensorflow(pool, stride, n):
    x = np.random.default_rng(1).standard_normal((2, n, 3)).astype("float32")
    layer = keraslike.layers.AveragePooling1D(pool, strides=stride, padding="same")
    out = layer(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(out, _tf_same_avg_pool_1d(x, pool, stride), rtol=1e-5, atol=1e-6)


def test_max_pooling_same_ignores_padding():
    x = -torch.arange(1.0, 6.0).reshape(1, 5, 1)  # all negative: a zero pad would win
    out = keraslike.layers.MaxPooling1D(2, strides=1, padding="same")(x)
    torch.testing.assert_close(out.flatten(), torch.tensor([-1.0, -2.0, -3.0, -4.0, -5.0]))


def test_global_average_pooling_1d_mask(keras_oracle):
    keras = keras_oracle
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
    expected = keras.layers.GlobalAveragePooling1D()(x, mask=mask)
    layer = keraslike.layers.GlobalAveragePooling1D()
    out = layer(torch.as_tensor(x), mask=torch.as_tensor(mask))
    np.testing.assert_allclose(out.numpy(), np.asarray(expected), rtol=1e-6)
    layer_cf = keraslike.layers.GlobalAveragePooling1D(data_format=CF, keepdims=True)
    out_cf = layer_cf(torch.as_tensor(x).transpose(1, 2), mask=torch.as_tensor(mask))
    np.testing.assert_allclose(out_cf.numpy()[:, :, 0], np.asarray(expected), rtol=1e-6)


def test_global_average_pooling_1d_all_true_mask_is_plain_mean():
    x = torch.randn(2, 4, 3)
    layer = keraslike.layers.GlobalAveragePooling1D()
    torch.testing.assert_close(layer(x, mask=torch.ones(2, 4, dtype=torch.bool)), x.mean(1))
    assert layer.compute_mask(x, torch.ones(2, 4, dtype=torch.bool)) is None


def test_pooling_padding_is_case_insensitive_and_config_keeps_it():
    x = torch.randn(1, 5, 5, 2)
    upper = keraslike.layers.MaxPool2D(padding="SAME")
    torch.testing.assert_close(upper(x), keraslike.layers.MaxPooling2D(padding="same")(x))
    assert upper.get_config()["padding"] == "SAME"  # as Keras stores it


def test_pooling_under_torch_compile():
    layer = keraslike.layers.AveragePooling2D(2, padding="same")
    x = torch.randn(2, 7, 5, 3)
    expected = layer(x)
    torch.testing.assert_close(torch.compile(layer, fullgraph=True, backend="eager")(x), expected)


def test_pooling_gradcheck_same():
    x = torch.randn(1, 5, 4, 2, dtype=torch.float64, requires_grad=True)
    layer = keraslike.layers.AveragePooling2D(2, padding="same", dtype="float64")
    assert torch.autograd.gradcheck(layer, (x,))


def test_pooling_bad_inputs():
    with pytest.raises(ValueError, match='MaxPooling2D layer "pool_a".*padding'):
        keraslike.layers.MaxPooling2D(padding="full", name="pool_a")
    with pytest.raises(ValueError, match='AveragePooling1D layer "pool_b".*pool_size'):
        keraslike.layers.AveragePooling1D(0, name="pool_b")
    message = 'layer "pool_c" is incompatible.*expected ndim=4, found ndim=3'
    with pytest.raises(ValueError, match=message):
        keraslike.layers.MaxPooling2D(name="pool_c")(torch.randn(1, 4, 4))
    with pytest.raises(ValueError, match=r'"pool_d".*pool_size=\(3, 3\).*\(2, 5\)'):
        keraslike.layers.MaxPooling2D(3, name="pool_d")(torch.randn(1, 2, 5, 1))
    with pytest.raises(ValueError, match='GlobalMaxPooling2D layer "gp".*data_format'):
        keraslike.layers.GlobalMaxPooling2D(data_format="NCHW", name="gp")
    with pytest.raises(ValueError, match='layer "gp2" is incompatible'):
        keraslike.layers.GlobalAveragePooling2D(name="gp2")(keraslike.Input(shape=(4, 3)))
