"""ContrastLimitedAdaptiveHistogramEqualization against Keras 3 (torch backend): values and
dtypes for integer and float images of several sizes (tile grids that do not divide them
included), value ranges, data formats, shapes in models, configs and errors."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import assert_configs_equal

keras = pytest.importorskip("keras")

NAME = "ContrastLimitedAdaptiveHistogramEqualization"


def _images(shape, kind, seed=0):
    """Images with structure (a ramp, a step and noise), so equalization changes them."""
    rng = np.random.default_rng(seed)
    channels_first = kind.endswith("_cf")
    kind = kind.removesuffix("_cf")
    h_axis, w_axis = (-2, -1) if channels_first else (-3, -2)
    height, width = shape[h_axis], shape[w_axis]
    ramp = np.linspace(0.0, 90.0, width)
    step = 100.0 * (np.arange(height) > height // 2)
    base = step[:, None] + ramp[None, :]  # (H, W)
    base = base if channels_first else base[..., None]
    x = np.broadcast_to(base, shape) + 40.0 * rng.random(shape)
    if kind == "uint8":
        return x.astype("uint8")
    if kind == "int64":
        return x.astype("int64")
    if kind == "float255":
        return x.astype("float32")
    if kind == "unit":
        return (x / 255.0).astype("float32")
    if kind == "signed":
        return (x / 127.5 - 1.0).astype("float32")
    raise ValueError(kind)


CASES = [
    # shape, kwargs, kind
    ((2, 64, 64, 3), {}, "uint8"),
    ((2, 50, 37, 3), {}, "uint8"),  # 8x8 tiles do not divide 50x37
    ((1, 100, 90, 3), {}, "float255"),
    ((1, 61, 77, 2), {"clip_limit": 40.0, "tile_grid_size": (4, 6)}, "float255"),
    ((2, 33, 45, 1), {"clip_limit": 0.0, "tile_grid_size": (4, 4)}, "float255"),
    ((2, 64, 48, 3), {"clip_limit": 10.0, "value_range": (0, 1)}, "unit"),
    ((2, 40, 41, 3), {"clip_limit": 6.0, "value_range": (-1.0, 1.0), "tile_grid_size": (3, 3)}, "signed"),
    ((2, 3, 61, 50), {"clip_limit": 3.0, "data_format": "channels_first", "tile_grid_size": (5, 3)}, "uint8_cf"),
    ((61, 50, 3), {"clip_limit": 3.0, "tile_grid_size": (2, 3)}, "uint8"),  # unbatched
    ((3, 30, 30), {"data_format": "channels_first", "tile_grid_size": (2, 2)}, "int64_cf"),
    ((1, 5, 7, 1), {}, "uint8"),  # tiles of one pixel
]


@pytest.mark.parametrize("shape,kwargs,kind", CASES, ids=[f"{c[2]}-{'x'.join(map(str, c[0]))}" for c in CASES])
def test_clahe_matches_keras(shape, kwargs, kind):
    x = _images(shape, kind)
    theirs = getattr(keras.layers, NAME)(**kwargs)
    ours = getattr(keraslike.layers, NAME)(**kwargs)
    expected = theirs(x)
    out = ours(torch.as_tensor(x))
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy().astype("float64"), expected.numpy().astype("float64"),
                               rtol=1e-6, atol=1e-6)
    assert_configs_equal(ours.get_config(), theirs.get_config())


def test_clahe_changes_images():
    """The layer is no identity where the contrast limit allows a change."""
    x = _images((1, 64, 64, 3), "uint8")
    out = getattr(keraslike.layers, NAME)()(x).numpy()
    assert np.abs(out.astype("int64") - x).max() > 20


def test_clahe_numpy_and_list_inputs_keep_keras_dtypes():
    x = _images((1, 16, 16, 1), "uint8")
    layer = getattr(keraslike.layers, NAME)(tile_grid_size=(2, 2))
    reference = getattr(keras.layers, NAME)(tile_grid_size=(2, 2))
    assert layer(x).dtype == torch.uint8
    assert layer(x.astype("float64")).dtype == torch.float32  # floats: the layer's dtype
    np.testing.assert_array_equal(layer(x).numpy(), reference(x).numpy())
    # (Keras's layer fails on a Python list; keraslike takes it as an integer array.)
    from_list = layer(x.tolist())
    assert from_list.dtype == torch.int64
    np.testing.assert_array_equal(from_list.numpy(), layer(x).numpy())


def test_clahe_applies_in_inference_and_in_models():
    x = _images((2, 48, 40, 3), "float255")
    kwargs = dict(tile_grid_size=(4, 4), clip_limit=8.0)
    expected = getattr(keras.layers, NAME)(**kwargs)(x).numpy()
    layer = getattr(keraslike.layers, NAME)(**kwargs)
    np.testing.assert_allclose(layer(torch.tensor(x), training=False).numpy(), expected, atol=1e-5)

    for shape in [(None, None, 3), (48, 40, 3)]:
        k_out = getattr(keras.layers, NAME)(**kwargs)(keras.Input(shape))
        inputs = keraslike.Input(shape)
        outputs = getattr(keraslike.layers, NAME)(**kwargs)(inputs)
        assert tuple(outputs.shape) == tuple(k_out.shape) and outputs.dtype == k_out.dtype
        model = keraslike.Model(inputs, outputs)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)


def test_clahe_config_from_keras_and_keras_file(tmp_path):
    kwargs = dict(value_range=(0.0, 1.0), clip_limit=2.5, tile_grid_size=(4, 2),
                  data_format="channels_first")
    theirs = getattr(keras.layers, NAME)(**kwargs)
    ours = keraslike.layers.deserialize(keras.layers.serialize(theirs))
    assert type(ours).__name__ == NAME
    assert_configs_equal(ours.get_config(), theirs.get_config())
    clone = type(ours).from_config(ours.get_config())
    assert_configs_equal(clone.get_config(), theirs.get_config())
    assert ours.get_weights() == [] and list(ours.state_dict()) == []

    inputs = keras.Input((3, 32, 24))
    model = keras.Model(inputs, theirs(inputs))
    path = str(tmp_path / "clahe.keras")
    model.save(path)
    x = _images((2, 3, 32, 24), "unit_cf")
    np.testing.assert_allclose(keraslike.saving.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    ({"tile_grid_size": (0, 8)}, "tile_grid_size"),
    ({"tile_grid_size": 8}, "tile_grid_size"),
    ({"tile_grid_size": (2, 2, 2)}, "tile_grid_size"),
    ({"value_range": 255}, "value_range"),
    ({"value_range": (0, 1, 2)}, "value_range"),
    ({"data_format": "nhwc"}, "data_format"),
])
def test_clahe_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(keraslike.layers, NAME)(**kwargs)


def test_clahe_bad_rank():
    layer = getattr(keraslike.layers, NAME)()
    with pytest.raises(ValueError, match="rank 3"):
        layer(torch.zeros(2, 16, 16, 3, 1))
    with pytest.raises(ValueError, match="rank 3"):
        layer(torch.zeros(16, 16))
