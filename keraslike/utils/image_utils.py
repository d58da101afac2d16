"""Image files and arrays: `load_img`, `img_to_array`, `array_to_img`, `save_img`, `smart_resize`.

Pillow is an optional dependency (`pip install keraslike[image]`), imported only when a function
that reads or writes a PIL image runs.
"""

import io
import pathlib
import warnings

import numpy as np
import torch

from keraslike.backend import config
from keraslike.ops import image as ops_image

# Keras's names for PIL's resampling filters (`load_img(interpolation=...)`).
PIL_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _pil_image(function):
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            f"`{function}` requires Pillow. Install it with `pip install keraslike[image]` "
            "(or `pip install Pillow`)."
        ) from error
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a 3D NumPy array (or tensor) to a PIL Image instance.

    Args:
        x: Input data, anything `np.asarray` takes (a torch tensor too), of rank 3.
        data_format: `"channels_last"` (default: `keras.config.image_data_format()`) or
            `"channels_first"`.
        scale: Whether to rescale the values so that their minimum and maximum become 0 and 255.
        dtype: Dtype of the intermediate array (default `keras.config.floatx()`).

    Returns:
        A PIL Image instance (mode `"RGB"`, `"RGBA"`, `"L"`, or `"I"` for one channel with
        values above 255).

    Example:

    >>> img = keras.utils.array_to_img(np.random.random((100, 100, 3)))
    >>> img.size
    (100, 100)
    """
    data_format = config.standardize_data_format(data_format)
    dtype = dtype or config.floatx()
    image_module = _pil_image("array_to_img")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.array(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError(
            "Expected image array to have rank 3 (single image). "
            f"Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return image_module.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image_module.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """Converts a PIL Image instance to a 3D NumPy array.

    Args:
        img: A PIL Image instance.
        data_format: `"channels_last"` (default: `keras.config.image_data_format()`) gives
            `(height, width, channels)`, `"channels_first"` `(channels, height, width)`.
        dtype: Dtype of the array (default `keras.config.floatx()`).

    Returns:
        A 3D NumPy array (grayscale images get a channel axis of size 1).

    Example:

    >>> img = keras.utils.array_to_img(np.random.random((10, 20, 3)))
    >>> keras.utils.img_to_array(img).shape
    (10, 20, 3)
    """
    data_format = config.standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[:, :, None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image stored as a NumPy array (or tensor) to a path or file object.

    Args:
        path: Path or file object.
        x: The image array, rank 3.
        data_format: `"channels_last"` or `"channels_first"`.
        file_format: Optional file format; by default the path's extension (`"jpg"` is read as
            `"jpeg"`). Required when `path` is a file object.
        scale: Whether to rescale the values to `[0, 255]`.
        **kwargs: Passed to `PIL.Image.Image.save`.

    Example:

    >>> keras.utils.save_img("/tmp/img.png", np.random.random((8, 8, 3)))
    """
    data_format = config.standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def open_image(path, function="load_img"):
    """Opens an image file (path, `pathlib.Path`, bytes path or `io.BytesIO`) with Pillow."""
    image_module = _pil_image(function)
    if isinstance(path, io.BytesIO):
        return image_module.open(path)
    if not isinstance(path, (pathlib.Path, bytes, str)):
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if isinstance(path, pathlib.Path):
        path = str(path.resolve())
    with open(path, "rb") as f:
        return image_module.open(io.BytesIO(f.read()))


def convert_color_mode(img, color_mode):
    """Converts a PIL image to `color_mode` (`"grayscale"` keeps 16/32-bit grayscale images)."""
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(
            'color_mode must be "grayscale", "rgb", or "rgba". '
            f"Received: color_mode={color_mode!r}"
        )
    return img


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Loads an image into PIL format.

    Args:
        path: Path to the image file (str, `pathlib.Path`, bytes) or an `io.BytesIO`.
        color_mode: One of `"grayscale"`, `"rgb"`, `"rgba"`. Default: `"rgb"`.
        target_size: `None` (original size) or `(img_height, img_width)`.
        interpolation: PIL resampling filter used when resizing: `"nearest"` (default),
            `"bilinear"`, `"bicubic"`, `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: Whether to center-crop to the target's aspect ratio before resizing.

    Returns:
        A PIL Image instance.

    Example:

    >>> image = keras.utils.load_img(image_path)
    >>> input_arr = keras.utils.img_to_array(image)[None]  # a batch of one
    """
    if not isinstance(path, io.BytesIO) and isinstance(path, (str, pathlib.Path)):
        if not pathlib.Path(path).exists():
            raise FileNotFoundError(f"No such image file: {str(path)!r}")
    img = convert_color_mode(open_image(path, "load_img"), color_mode)
    if target_size is None:
        return img
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    if interpolation not in PIL_INTERPOLATIONS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            f"{', '.join(PIL_INTERPOLATIONS)}"
        )
    image_module = _pil_image("load_img")
    resample = getattr(image_module.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    target_width, target_height = width_height
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    box = [left, top, left + crop_width, top + crop_height]
    return img.resize(width_height, resample, box=box)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", **kwargs):
    """Resizes images to a target size without aspect ratio distortion.

    Takes the largest centered crop with the target's aspect ratio, then resizes it to `size`
    (Keras's algorithm and crop arithmetic).

    Args:
        x: An image `(height, width, channels)` or a batch `(batch, height, width, channels)`
            (channels first with `data_format="channels_first"`), as a NumPy array or tensor.
        size: `(height, width)` of the output.
        interpolation: `"bilinear"` (default), `"nearest"` or `"bicubic"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Returns:
        The resized image(s): a NumPy array for a NumPy input, a torch tensor for a tensor.

    Example:

    >>> keras.preprocessing.image.smart_resize(np.zeros((340, 500, 3)), (200, 200)).shape
    (200, 200, 3)
    """
    if kwargs:
        raise TypeError(f"smart_resize() got unexpected keyword arguments: {list(kwargs.keys())}")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    is_tensor = isinstance(x, torch.Tensor)
    img = x if is_tensor else torch.as_tensor(np.asarray(x))
    if img.ndim < 3 or img.ndim > 4:
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, of "
            f"shape {tuple(img.shape)}."
        )
    crop = center_crop_box(img, size, data_format)
    if data_format == "channels_last":
        img = img[..., crop[0]:crop[0] + crop[2], crop[1]:crop[1] + crop[3], :]
    else:
        img = img[..., crop[0]:crop[0] + crop[2], crop[1]:crop[1] + crop[3]]
    out = ops_image.resize(img, size, interpolation=interpolation, data_format=data_format)
    return out if is_tensor else out.numpy()


def center_crop_box(img, size, data_format):
    """`(top, left, crop_height, crop_width)` of the largest centered crop with `size`'s ratio."""
    if data_format == "channels_last":
        height, width = img.shape[-3], img.shape[-2]
    else:
        height, width = img.shape[-2], img.shape[-1]
    target_height, target_width = size
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (int(float(height - crop_height) / 2), int(float(width - crop_width) / 2),
            crop_height, crop_width)
