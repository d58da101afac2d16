"""Parity of `keras.ops.image` with Keras 3 (torch backend), eager and in a graph."""

import numpy as np
import pytest
import torch

from tests.ops.harness import assert_same, check_eager, f

RNG = np.random.RandomState(3)


def img(*shape):
    return RNG.rand(*shape).astype("float32")


def icase(name, *args, sym=1, tol=1e-5, id=None, **kwargs):
    return pytest.param(name, args, kwargs, sym, tol, id=id or name)


SHIFT = np.array([1.0, 0.2, -1.5, 0.1, 0.9, 2.0, 0.0, 0.0], "float32")
CASES = [
    icase("rgb_to_grayscale", img(2, 5, 6, 3)),
    icase("rgb_to_grayscale", img(2, 3, 5, 6), data_format="channels_first", id="gray-cf"),
    icase("rgb_to_hsv", img(2, 5, 6, 3)),
    icase("hsv_to_rgb", img(2, 5, 6, 3)),
    icase("resize", img(2, 8, 6, 3), (4, 5)),
    icase("resize", img(2, 8, 6, 3), (12, 9), interpolation="nearest", id="resize-nearest"),
    icase("resize", img(2, 8, 6, 3), (5, 4), interpolation="bicubic", antialias=True,
          id="resize-bicubic-aa", tol=1e-4),
    icase("resize", img(2, 8, 6, 3), (4, 4), crop_to_aspect_ratio=True, id="resize-crop"),
    icase("resize", img(2, 8, 6, 3), (4, 4), pad_to_aspect_ratio=True, fill_value=0.5,
          id="resize-pad"),
    icase("resize", (img(2, 8, 6, 3) * 255).astype("uint8"), (4, 5), id="resize-uint8"),
    icase("crop_images", img(2, 8, 6, 3), top_cropping=1, left_cropping=2, target_height=5,
          target_width=3),
    icase("crop_images", img(8, 6, 3), top_cropping=1, bottom_cropping=2, left_cropping=0,
          right_cropping=1, sym=0, id="crop-single"),
    icase("pad_images", img(2, 5, 4, 3), top_padding=1, left_padding=2, target_height=8,
          target_width=7),
    icase("pad_images", img(2, 3, 5, 4), top_padding=1, bottom_padding=0, left_padding=1,
          right_padding=3, data_format="channels_first", id="pad-cf"),
    icase("extract_patches", img(2, 8, 8, 3), 3),
    icase("extract_patches", img(2, 9, 7, 2), (2, 3), strides=2, padding="same",
          id="patches-same"),
    icase("extract_patches", img(2, 9, 9, 2), 2, strides=1, dilation_rate=2, id="patches-dil"),
    # Keras 3.15's eager torch path reads data_format=None as channels_first: pass it explicitly.
    icase("extract_patches_3d", img(2, 6, 6, 4, 2), 2),
    icase("extract_patches_3d", img(2, 7, 6, 5, 2), (2, 3, 2), strides=(1, 2, 2),
          padding="same", id="patches3d-same"),
    icase("extract_patches_3d", img(2, 7, 7, 7, 1), 2, strides=1, dilation_rate=2,
          id="patches3d-dil"),
    icase("gaussian_blur", img(2, 8, 8, 3), data_format="channels_last"),
    icase("gaussian_blur", img(2, 8, 8, 3), kernel_size=(5, 5), sigma=(2.0, 0.5),
          data_format="channels_last", id="blur-5"),
    icase("gaussian_blur", img(2, 3, 8, 8), data_format="channels_first", id="blur-cf"),
    icase("sobel_edges", img(2, 6, 7, 3)),
    # Keras needs one transform per image of a batch (ours also broadcasts a single one).
    icase("affine_transform", img(2, 6, 7, 3), np.stack([SHIFT, SHIFT]), sym=0, tol=1e-4),
    icase("affine_transform", img(2, 6, 7, 3), np.stack([SHIFT, SHIFT * 0.5]), sym=0,
          interpolation="nearest", fill_mode="reflect", id="affine-reflect", tol=1e-4),
    icase("affine_transform", img(6, 7, 3), SHIFT, fill_mode="wrap", sym=0, id="affine-wrap",
          tol=1e-4),
    icase("affine_transform", img(2, 6, 7, 3), np.stack([SHIFT, -SHIFT]), fill_mode="mirror",
          fill_value=0.3,
          sym=0, id="affine-mirror", tol=1e-4),
    icase("perspective_transform", img(2, 6, 7, 3),
          np.array([[[0, 0], [6, 0], [0, 5], [6, 5]]] * 2, "float32"),
          np.array([[[1, 0], [5, 1], [0, 4], [6, 5]], [[0, 1], [6, 0], [1, 5], [5, 4]]], "float32"),
          sym=0, tol=1e-4),
    icase("perspective_transform", img(6, 7, 3),
          np.array([[0, 0], [6, 0], [0, 5], [6, 5]], "float32"),
          np.array([[1, 0], [5, 1], [0, 4], [6, 5]], "float32"), interpolation="nearest",
          fill_value=0.5, sym=0, id="perspective-nearest", tol=1e-4),
    icase("ssim", img(2, 16, 16, 3), img(2, 16, 16, 3), sym=2, tol=1e-4),
]


@pytest.mark.parametrize("name,args,kwargs,sym,tol", CASES)
def test_image_op_parity(keras_oracle, name, args, kwargs, sym, tol):
    import keraslike
    from keraslike import ops

    torch_args = [torch.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a for a in args]
    ours = getattr(ops.image, name)(*torch_args, **kwargs)
    theirs = getattr(keras_oracle.ops.image, name)(*torch_args, **kwargs)
    assert_same(ours, theirs, tol=tol)
    if sym:
        inputs = [keraslike.Input(a.shape[1:], dtype=str(a.dtype)) for a in args[:sym]]
        outputs = getattr(ops.image, name)(*inputs, *torch_args[sym:], **kwargs)
        model = keraslike.Model(inputs if sym > 1 else inputs[0], outputs)
        result = model(torch_args[:sym] if sym > 1 else torch_args[0])
        assert_same(result, ours, tol=tol)
        assert tuple(outputs.shape)[1:] == tuple(ours.shape)[1:]


def test_affine_transform_broadcasts_one_transform():
    from keraslike import ops

    images = torch.from_numpy(img(2, 6, 7, 3))
    one = ops.image.affine_transform(images, torch.from_numpy(SHIFT))
    both = ops.image.affine_transform(images, torch.from_numpy(np.stack([SHIFT, SHIFT])))
    assert torch.allclose(one, both)


def test_map_coordinates(keras_oracle):
    from keraslike import ops

    x = torch.from_numpy(f(5, 6))
    coords = torch.from_numpy(np.stack([RNG.uniform(-2, 7, (4, 3)), RNG.uniform(-2, 8, (4, 3))]).astype("float32"))
    for order in (0, 1):
        for mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
            ours = ops.image.map_coordinates(x, coords, order, fill_mode=mode, fill_value=0.5)
            theirs = keras_oracle.ops.image.map_coordinates(x, coords, order, fill_mode=mode,
                                                             fill_value=0.5)
            assert_same(ours, theirs, tol=1e-5)
