"""load_img / img_to_array / array_to_img / save_img / smart_resize against Keras 3 (which runs
these on the torch backend with Pillow, no TensorFlow)."""

import io

import numpy as np
import pytest
import torch

import keraslike as keras

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def keras_utils():
    return pytest.importorskip("keras").utils


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "img.png"
    data = np.random.default_rng(0).integers(0, 256, (12, 17, 3), dtype=np.uint8)
    PIL.fromarray(data).save(path)
    return path, data


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(color_mode="grayscale"),
        dict(color_mode="rgba", target_size=(6, 9)),
        dict(target_size=(8, 8), interpolation="bilinear"),
        dict(target_size=(5, 11), interpolation="lanczos", keep_aspect_ratio=True),
        dict(target_size=(9, 4), interpolation="box", keep_aspect_ratio=True),
    ],
)
def test_load_img_and_img_to_array_equal_keras(png, keras_utils, kwargs):
    path, _ = png
    ours = keras.utils.load_img(str(path), **kwargs)
    theirs = keras_utils.load_img(str(path), **kwargs)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    for data_format in ("channels_last", "channels_first"):
        a = keras.utils.img_to_array(ours, data_format=data_format)
        b = keras_utils.img_to_array(theirs, data_format=data_format)
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_load_img_from_pathlib_and_bytesio(png):
    path, data = png
    np.testing.assert_array_equal(keras.utils.img_to_array(keras.utils.load_img(path)), data)
    buffer = io.BytesIO(path.read_bytes())
    np.testing.assert_array_equal(np.asarray(keras.utils.load_img(buffer)), data)
    with pytest.raises(TypeError, match="path should be path-like"):
        keras.utils.load_img(3)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        keras.utils.load_img(path.parent / "missing.png")
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
        keras.utils.load_img(path, target_size=(3, 3), interpolation="cubic")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("scale", [True, False])
def test_array_to_img_equals_keras(keras_utils, channels, scale):
    x = np.random.default_rng(channels).uniform(0, 200, (5, 6, channels)).astype("float32")
    ours, theirs = keras.utils.array_to_img(x, scale=scale), keras_utils.array_to_img(x, scale=scale)
    assert ours.mode == theirs.mode
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    chw = keras.utils.array_to_img(torch.from_numpy(x.transpose(2, 0, 1)), scale=scale,
                                   data_format="channels_first")
    np.testing.assert_array_equal(np.asarray(chw), np.asarray(theirs))
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(x[0])


def test_save_img_round_trip(tmp_path, keras_utils):
    x = np.random.default_rng(1).uniform(0, 1, (6, 7, 3)).astype("float32")
    keras.utils.save_img(tmp_path / "ours.png", x)
    keras_utils.save_img(str(tmp_path / "theirs.png"), x)
    np.testing.assert_array_equal(np.asarray(PIL.open(tmp_path / "ours.png")),
                                  np.asarray(PIL.open(tmp_path / "theirs.png")))
    buffer = io.BytesIO()
    with pytest.warns(UserWarning, match="JPEG"):
        keras.utils.save_img(buffer, np.ones((4, 4, 4)), file_format="jpg")
    assert buffer.getvalue()[:2] == b"\xff\xd8"


@pytest.mark.parametrize("shape, size", [((34, 50, 3), (20, 20)), ((2, 10, 7, 1), (5, 9)),
                                         ((3, 8, 12), (4, 4))])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_smart_resize_equals_keras(shape, size, interpolation):
    keras_image = pytest.importorskip("keras").preprocessing.image
    x = np.random.default_rng(2).uniform(0, 255, shape).astype("float32")
    data_format = "channels_first" if shape == (3, 8, 12) else "channels_last"
    ours = keras.preprocessing.image.smart_resize(x, size, interpolation=interpolation,
                                                  data_format=data_format)
    theirs = keras_image.smart_resize(x, size, interpolation=interpolation, data_format=data_format)
    assert isinstance(ours, np.ndarray)
    np.testing.assert_allclose(ours, np.asarray(theirs), atol=1e-4)
    as_tensor = keras.preprocessing.image.smart_resize(torch.from_numpy(x), size,
                                                       interpolation=interpolation,
                                                       data_format=data_format)
    assert isinstance(as_tensor, torch.Tensor)
    with pytest.raises(ValueError, match="rank"):
        keras.preprocessing.image.smart_resize(x[0, 0], size)
