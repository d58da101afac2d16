"""Rescaling, Normalization, CenterCrop and Resizing against Keras 3 (torch backend)."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal, check_layer

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(7)


# ---------------------------------------------------------------------- Rescaling

RESCALING_CASES = [
    ({"scale": 1.0 / 255}, (2, 4, 4, 3), "float32"),
    ({"scale": 1.0 / 127.5, "offset": -1.0}, (2, 4, 4, 3), "float32"),
    ({"scale": 1.0 / 255}, (2, 4, 4, 3), "uint8"),
    ({"scale": 0.5, "offset": 2}, (3, 5), "int32"),
    ({"scale": np.array([0.5, 2.0, 1.0 / 3]), "offset": np.array([1.0, 0.0, -1.0])}, (2, 4, 3), "float32"),
]


@pytest.mark.parametrize("kwargs,shape,dtype", RESCALING_CASES)
def test_rescaling_parity(kwargs, shape, dtype):
    ours, _, out, _ = check_layer("Rescaling", kwargs, shape, input_dtype=dtype, int_high=256)
    assert out.dtype == np.float32
    assert ours.get_weights() == [] and not list(ours.state_dict())


def test_rescaling_array_scale_moves_with_module():
    layer = keraslike.layers.Rescaling(np.array([1.0, 2.0]))
    layer.to(torch.float64)  # buffers follow .to(); outputs stay Keras's dtype rules
    assert layer._scale_tensor.dtype == torch.float64


# ---------------------------------------------------------------------- Normalization

NORMALIZATION_CASES = [
    ({"mean": 2.0, "variance": 4.0}, (3, 4)),
    ({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}, (2, 5, 3)),
    ({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.0], "invert": True}, (2, 3)),
    ({"axis": None, "mean": 0.5, "variance": 2.0}, (2, 3, 4)),
    ({"axis": (1, 2), "mean": [[1.0, 2.0], [3.0, 4.0]], "variance": [[1.0, 2.0], [3.0, 4.0]]}, (3, 2, 2)),
    ({}, (2, 3)),  # not adapted: mean 0, variance 1
]


@pytest.mark.parametrize("kwargs,shape", NORMALIZATION_CASES)
def test_normalization_parity(kwargs, shape):
    check_layer("Normalization", kwargs, shape)


def _adapted_pair(kwargs, data, our_data=None):
    theirs = keras.layers.Normalization(**kwargs)
    theirs.adapt(data)
    ours = keraslike.layers.Normalization(**kwargs)
    ours.adapt(data if our_data is None else our_data)
    return ours, theirs


ADAPT_CASES = [
    ({}, (50, 3)),
    ({"axis": -1}, (8, 5, 4)),
    ({"axis": None}, (20, 3)),
    ({"axis": (1, 2)}, (10, 3, 2)),
    ({"axis": 1}, (6, 4, 5)),
    ({"axis": -1, "invert": True}, (30, 2)),
]


@pytest.mark.parametrize("kwargs,shape", ADAPT_CASES)
@pytest.mark.parametrize("kind", ["numpy", "tensor", "batches", "xy_batches"])
def test_normalization_adapt_statistics_equal_keras(kwargs, shape, kind):
    data = (RNG.standard_normal(shape) * 3 + 1.5).astype("float32")
    if kind == "numpy":
        k_data = o_data = data
    elif kind == "tensor":
        k_data = o_data = torch.tensor(data)
    elif kind == "batches":
        k_data = [data[i : i + 3] for i in range(0, len(data), 3)]  # a short last batch
        o_data = [torch.tensor(b) for b in k_data]
    else:
        k_data = o_data = [(data[i : i + 4], np.zeros(len(data[i : i + 4]))) for i in range(0, len(data), 4)]
    tol = 1e-6
    if kind.endswith("batches"):
        # Keras 3.15 needs TensorFlow to adapt from an iterable (it checks for tf.data first),
        # so its batch-merging formula (ours too) is checked against Keras's statistics of the
        # whole array, which it reproduces up to float32 rounding.
        k_data, tol = data, 1e-5
    ours, theirs = _adapted_pair(kwargs, k_data, o_data)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    x = RNG.standard_normal(shape).astype("float32")
    np.testing.assert_allclose(
        ours(torch.tensor(x)).numpy(), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-5
    )
    assert_configs_equal(ours.get_config(), theirs.get_config())


def test_normalization_adapt_integer_numpy_and_buffers():
    data = RNG.integers(0, 10, size=(40, 3))
    ours, theirs = _adapted_pair({}, data)
    np.testing.assert_allclose(ours.get_weights()[0], theirs.get_weights()[0], rtol=1e-6)
    np.testing.assert_allclose(ours.get_weights()[1], theirs.get_weights()[1], rtol=1e-6)
    # Statistics are buffers: in state_dict, not parameters, and they move with the module.
    assert set(ours.state_dict()) == {"adapt_mean", "adapt_variance", "count"}
    assert not list(ours.parameters())
    assert [w.path.split("/")[-1] for w in ours.weights] == ["mean", "variance", "count"]
    assert [w.path.split("/")[-1] for w in theirs.weights] == ["mean", "variance", "count"]
    assert tuple(ours.mean.shape) == (1, 3)


def test_normalization_set_weights_from_keras():
    theirs = keras.layers.Normalization()
    theirs.adapt(RNG.standard_normal((10, 4)).astype("float32"))
    ours = keraslike.layers.Normalization()
    ours.build((None, 4))
    ours.set_weights(theirs.get_weights())
    x = RNG.standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(ours(torch.tensor(x)).numpy(), keras.ops.convert_to_numpy(theirs(x)), atol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="norm_a.*both `mean` and `variance`"):
        keraslike.layers.Normalization(mean=1.0, name="norm_a")
    with pytest.raises(ValueError, match="same shape"):
        keraslike.layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    layer = keraslike.layers.Normalization(name="norm_b")
    layer.adapt(np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match="norm_b.*incompatible shape"):
        layer.adapt(np.zeros((4, 5), "float32"))
    with pytest.raises(ValueError, match="empty iterable"):
        keraslike.layers.Normalization().adapt([])
    with pytest.raises(TypeError):
        keraslike.layers.Normalization().adapt(3.0)
    with pytest.raises(ValueError, match="axis"):
        keraslike.layers.Normalization(axis=3).build((None, 2))


def test_normalization_in_functional_model():
    inp = keraslike.Input(shape=(None, 3))
    norm = keraslike.layers.Normalization()
    norm.adapt(RNG.standard_normal((5, 4, 3)).astype("float32"))
    out = norm(inp)
    assert out.shape == (None, None, 3)
    model = keraslike.Model(inp, out)
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(model(x), (x - norm.mean) / norm.variance.sqrt())


# ---------------------------------------------------------------------- CenterCrop

CENTER_CROP_CASES = [
    ({"height": 3, "width": 4}, (2, 6, 7, 3), "float32"),
    ({"height": 3, "width": 4}, (2, 5, 7, 3), "uint8"),
    ({"height": 6, "width": 4}, (2, 5, 7, 3), "float32"),  # taller than the image: smart resize
    ({"height": 8, "width": 9}, (2, 5, 7, 3), "float32"),  # larger: smart resize
    ({"height": 3, "width": 4, "data_format": "channels_first"}, (2, 3, 6, 7), "float32"),
    ({"height": 8, "width": 3, "data_format": "channels_first"}, (2, 3, 6, 7), "float32"),
    ({"height": 2, "width": 2}, (5, 7, 3), "float32"),  # unbatched
]


@pytest.mark.parametrize("kwargs,shape,dtype", CENTER_CROP_CASES)
def test_center_crop_parity(kwargs, shape, dtype):
    _, _, out, _ = check_layer("CenterCrop", kwargs, shape, input_dtype=dtype, int_high=256, atol=1e-6)
    assert out.dtype == np.float32


def test_center_crop_rank_error():
    with pytest.raises(ValueError, match="crop_x"):
        keraslike.layers.CenterCrop(2, 2, name="crop_x")(torch.zeros(4, 5))


# ---------------------------------------------------------------------- Resizing

RESIZING_CASES = [
    ({"height": 3, "width": 4}, (2, 6, 7, 3), "float32"),
    ({"height": 9, "width": 11}, (2, 6, 7, 3), "float32"),
    ({"height": 3, "width": 4, "interpolation": "nearest"}, (2, 6, 7, 3), "float32"),
    ({"height": 9, "width": 5, "interpolation": "bicubic"}, (2, 6, 7, 3), "float32"),
    ({"height": 3, "width": 4, "antialias": True}, (2, 12, 13, 3), "float32"),
    ({"height": 3, "width": 4, "interpolation": "bicubic", "antialias": True}, (2, 12, 13, 3), "float32"),
    ({"height": 4, "width": 4, "crop_to_aspect_ratio": True}, (2, 6, 9, 3), "float32"),
    ({"height": 4, "width": 4, "pad_to_aspect_ratio": True}, (2, 6, 9, 3), "float32"),
    ({"height": 4, "width": 8, "pad_to_aspect_ratio": True, "fill_value": 1.5}, (2, 6, 9, 3), "float32"),
    ({"height": 3, "width": 4, "data_format": "channels_first"}, (2, 3, 6, 7), "float32"),
    ({"height": 5, "width": 3, "data_format": "channels_first", "crop_to_aspect_ratio": True},
     (2, 3, 6, 7), "float32"),
    ({"height": 3, "width": 4}, (2, 6, 7, 3), "uint8"),
    ({"height": 9, "width": 9, "interpolation": "bicubic"}, (2, 6, 7, 3), "uint8"),
    ({"height": 3, "width": 4}, (6, 7, 3), "float32"),  # unbatched
]


@pytest.mark.parametrize("kwargs,shape,dtype", RESIZING_CASES)
def test_resizing_parity(kwargs, shape, dtype):
    # Same F.interpolate call on the same view as Keras's torch backend: equal to float rounding.
    _, _, out, k_out = check_layer("Resizing", kwargs, shape, input_dtype=dtype, int_high=256, atol=1e-6)
    assert out.dtype == k_out.dtype


def test_resizing_functional_model_and_errors():
    inp = keraslike.Input(shape=(None, None, 3))
    out = keraslike.layers.Resizing(4, 5)(inp)
    assert out.shape == (None, 4, 5, 3)
    model = keraslike.Model(inp, out)
    assert tuple(model(torch.rand(2, 7, 9, 3)).shape) == (2, 4, 5, 3)
    with pytest.raises(ValueError, match="resize_x.*interpolation"):
        keraslike.layers.Resizing(2, 2, interpolation="lanczos3", name="resize_x")
    with pytest.raises(ValueError, match="pad_to_aspect_ratio"):
        keraslike.layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="height"):
        keraslike.layers.Resizing(0, 2)


def test_resizing_gradcheck_float64():
    layer = keraslike.layers.Resizing(3, 5, dtype="float64")
    x = torch.randn(1, 4, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))
