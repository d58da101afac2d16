"""Helpers of the drawing and plotting functions: array conversion, checks, optional imports."""

import numpy as np

from keraslike.backend.config import image_data_format
from keraslike.ops.core import convert_to_numpy


def to_numpy(x):
    """A NumPy array of `x` (a tensor on any device, an array or nested lists)."""
    return convert_to_numpy(x)


def resolve_data_format(data_format):
    """`data_format`, or the configured default when `None`; a ValueError for other values."""
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


def require_batched_images(images):
    """The NumPy array of `images`; a ValueError (as Keras) unless it has 4 dimensions."""
    images = to_numpy(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={tuple(images.shape)}"
        )
    return images


def to_0_255(images, value_range):
    """Rescales `images` from `value_range` to [0, 255] in float32 (unchanged if already so).

    The arithmetic is Keras's `_transform_value_range`: `(x - lo) / (hi - lo) * 255`.
    """
    low, high = value_range
    if low == 0 and high == 255:
        return images
    low, high = np.float32(low), np.float32(high)
    images = images.astype(np.float32)
    return (images - low) / (high - low) * np.float32(255.0) + np.float32(0.0)


def opencv_pixel(color, channels):
    """`color` as a uint8 pixel of `channels` values, as OpenCV converts a colour scalar.

    Values are rounded and saturated to [0, 255]; a colour with more values than channels is
    truncated (a grayscale image takes the first), one with fewer is padded with zeros (RGBA
    alpha 0).
    """
    color = [float(c) for c in np.ravel(np.asarray(color))]
    color = (color + [0.0] * channels)[:channels]
    return np.clip(np.rint(color), 0, 255).astype(np.uint8)


def import_pyplot(function_name):
    """Imports `matplotlib.pyplot`, or raises an ImportError that says how to install it."""
    try:
        from matplotlib import pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"The `{function_name}` function requires the `matplotlib` package. Install it "
            "with `pip install matplotlib` (or `pip install keraslike[visualization]`)."
        ) from error
    return plt
