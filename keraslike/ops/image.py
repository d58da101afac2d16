"""`keras.ops.image`: image ops on `(batch, height, width, channels)` tensors (or one image, or
channels-first with `data_format`), as Keras 3 computes them on torch.

Resizing, blurring, edges and patches run as single fused torch kernels (`F.interpolate`,
grouped `conv2d`, `F.unfold`); affine warps sample all images of a batch at once.
"""

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.backend.dtypes import result_type
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.image_elastic import elastic_transform  # noqa: F401 - public here
from keraslike.ops.image_resample import scale_and_translate  # noqa: F401 - public here
from keraslike.ops.image_sampling import (  # noqa: F401 - map_coordinates is public here
    _FILL_MODES,
    map_coordinates,
    perspective_transform,
    warp,
)

_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _check_rank(images, name="images"):
    if images.ndim not in (3, 4):
        raise ValueError(
            f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: {name}.shape={tuple(images.shape)}"
        )


def _to_nchw(images, data_format):
    """Batched channels-first view of `images`; returns it and how to undo it."""
    single = images.ndim == 3
    if single:
        images = images.unsqueeze(0)
    if data_format == "channels_last":
        images = images.permute(0, 3, 1, 2)

    def back(out):
        if data_format == "channels_last":
            out = out.permute(0, 2, 3, 1)
        return out.squeeze(0) if single else out

    return images, back


@keras_op
def rgb_to_grayscale(images, data_format=None):
    """Converts RGB images to grayscale (`0.2989 R + 0.587 G + 0.114 B`), keeping a channel axis."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    axis = -3 if data_format == "channels_first" else -1
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input with shape: "
            f"images.shape={tuple(images.shape)}"
        )
    if images.shape[axis] == 1:
        return images.clone()
    r, g, b = images.unbind(dim=axis)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(images.dtype).unsqueeze(axis)


def _float_images(images):
    if not images.dtype.is_floating_point:
        raise ValueError(
            "Invalid images dtype: expected float dtype. Received: images.dtype="
            f"{str(images.dtype).replace('torch.', '')}"
        )


@keras_op
def rgb_to_hsv(images, data_format=None):
    """Converts RGB images (floats in `[0, 1]`) to HSV, each channel in `[0, 1]`."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    _float_images(images)
    axis = -1 if data_format == "channels_last" else -3
    images = torch.where(images.abs() < torch.finfo(images.dtype).eps, 0.0, images)
    r, g, b = images.unbind(axis)
    value = torch.maximum(torch.maximum(r, g), b)
    spread = value - torch.minimum(torch.minimum(r, g), b)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=axis)


@keras_op
def hsv_to_rgb(images, data_format=None):
    """Converts HSV images (each channel in `[0, 1]`) to RGB."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    _float_images(images)
    axis = -1 if data_format == "channels_last" else -3
    hue, saturation, value = images.unbind(axis)
    sector = torch.remainder(hue, 1.0) * 6.0
    dr = torch.clip((sector - 3.0).abs() - 1.0, 0.0, 1.0)
    dg = torch.clip(2.0 - (sector - 2.0).abs(), 0.0, 1.0)
    db = torch.clip(2.0 - (sector - 4.0).abs(), 0.0, 1.0)
    base = 1.0 - saturation
    return torch.stack(
        [value * (base + saturation * d) for d in (dr, dg, db)], dim=axis
    )


def _aspect_box(height, width, target_height, target_width, grow):
    """Height/width of the box with the target's aspect ratio: cropped into (or padded around)
    the image."""
    box_h = int(float(width * target_height) / target_width)
    box_w = int(float(height * target_width) / target_height)
    if grow:
        return max(height, box_h), max(width, box_w)
    return max(min(height, box_h), 1), max(min(width, box_w), 1)


@keras_op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes images to `size = (height, width)`.

    Args:
        images: 3D or 4D image tensor.
        size: `(height, width)` of the output.
        interpolation: `"bilinear"`, `"nearest"` or `"bicubic"` (Lanczos is not available on torch).
        antialias: Antialias when downsampling (bilinear and bicubic).
        crop_to_aspect_ratio: Center-crop to the target's aspect ratio first.
        pad_to_aspect_ratio: Pad (with `fill_value`) to the target's aspect ratio first.
        fill_mode: Only `"constant"`.
        fill_value: Padding value for `pad_to_aspect_ratio`.
        data_format: `"channels_last"` or `"channels_first"` (default `image_data_format()`).

    Returns:
        The resized images, in the input's dtype (integers rounded).
    """
    data_format = config.standardize_data_format(data_format)
    if interpolation in ("lanczos3", "lanczos5"):
        raise ValueError(
            "Resizing with Lanczos interpolation is not supported by the PyTorch backend. "
            f"Received: interpolation={interpolation}."
        )
    if interpolation not in _RESIZE_MODES:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {set(_RESIZE_MODES)}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            "Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: "
            f"fill_mode={fill_mode}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if len(size) != 2:
        raise ValueError(
            f"Argument `size` must be a tuple of two elements (height, width). Received: size={size}"
        )
    size = tuple(int(s) for s in size)
    images = _t(images)
    _check_rank(images)
    out_dtype = images.dtype
    x, back = _to_nchw(images, data_format)
    if x.dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    height, width = x.shape[-2:]
    if crop_to_aspect_ratio:
        box_h, box_w = _aspect_box(height, width, *size, grow=False)
        top, left = int(float(height - box_h) / 2), int(float(width - box_w) / 2)
        x = x[:, :, top : top + box_h, left : left + box_w]
    elif pad_to_aspect_ratio:
        box_h, box_w = _aspect_box(height, width, *size, grow=True)
        pad_h, pad_w = int(float(box_h - height) / 2), int(float(box_w - width) / 2)
        x = F.pad(x, (pad_w, pad_w, pad_h, pad_h), value=fill_value)
    mode = _RESIZE_MODES[interpolation]
    out = F.interpolate(
        x, size=size, mode=mode,
        align_corners=False if interpolation in ("bilinear", "bicubic") else None,
        antialias=antialias and interpolation in ("bilinear", "bicubic"),
    )
    if interpolation == "bicubic" and out_dtype == torch.uint8:
        out = out.clamp(0, 255)
    out = back(out)
    if out.dtype != out_dtype:
        if out_dtype in _INT_DTYPES:
            out = torch.round(out)
        out = out.to(out_dtype)
    return out


@keras_op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crops images to a box given by offsets and/or a target size."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    if (top_cropping is not None) + (bottom_cropping is not None) + (target_height is not None) != 2:
        raise ValueError(
            "Must specify exactly two of top_cropping, bottom_cropping, target_height. Received: "
            f"top_cropping={top_cropping}, bottom_cropping={bottom_cropping}, "
            f"target_height={target_height}"
        )
    if (left_cropping is not None) + (right_cropping is not None) + (target_width is not None) != 2:
        raise ValueError(
            "Must specify exactly two of left_cropping, right_cropping, target_width. Received: "
            f"left_cropping={left_cropping}, right_cropping={right_cropping}, "
            f"target_width={target_width}"
        )
    h_axis = images.ndim - 3 if data_format == "channels_last" else images.ndim - 2
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    if top_cropping is None:
        top_cropping = height - target_height - bottom_cropping
    if target_height is None:
        target_height = height - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = width - target_width - right_cropping
    if target_width is None:
        target_width = width - right_cropping - left_cropping
    for name, value in (("top_cropping", top_cropping), ("target_height", target_height),
                        ("left_cropping", left_cropping), ("target_width", target_width)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    out = images.narrow(h_axis, top_cropping, target_height)
    return out.narrow(h_axis + 1, left_cropping, target_width)


@keras_op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Pads images with zeros to a target size and/or by given offsets."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    if (top_padding is not None) + (bottom_padding is not None) + (target_height is not None) != 2:
        raise ValueError(
            "Must specify exactly two of top_padding, bottom_padding, target_height. Received: "
            f"top_padding={top_padding}, bottom_padding={bottom_padding}, "
            f"target_height={target_height}"
        )
    if (left_padding is not None) + (right_padding is not None) + (target_width is not None) != 2:
        raise ValueError(
            "Must specify exactly two of left_padding, right_padding, target_width. Received: "
            f"left_padding={left_padding}, right_padding={right_padding}, "
            f"target_width={target_width}"
        )
    h_axis = images.ndim - 3 if data_format == "channels_last" else images.ndim - 2
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    if top_padding is None:
        top_padding = target_height - bottom_padding - height
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - height
    if left_padding is None:
        left_padding = target_width - right_padding - width
    if right_padding is None:
        right_padding = target_width - left_padding - width
    for name, value in (("top_padding", top_padding), ("left_padding", left_padding),
                        ("right_padding", right_padding), ("bottom_padding", bottom_padding)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    widths = [0, 0] * (images.ndim - h_axis - 2) + [left_padding, right_padding, top_padding, bottom_padding]
    return F.pad(images, widths)


def _same_padding(size, kernel, stride, dilation):
    effective = (kernel - 1) * dilation + 1
    total = max((-(-size // stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Extracts `size` patches from images into the channel axis: `(N, H', W', ph * pw * C)`.

    Each patch is flattened in `(patch_row, patch_col, channel)` order, as Keras does.

    Args:
        images: 3D or 4D image tensor.
        size: Patch size, an int or `(height, width)` (3D patches are not available yet).
        strides: Step between patches (default: the patch size).
        dilation_rate: Dilation inside a patch.
        padding: `"valid"` or `"same"` (TensorFlow's asymmetric padding).
        data_format: `"channels_last"` or `"channels_first"`.
    """
    if isinstance(size, int):
        size = (size, size)
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"Invalid `size` argument. Expected an int or a tuple of length 2. Received: size={size}")
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    strides = tuple(size) if not strides else ((strides,) * 2 if isinstance(strides, int) else tuple(strides))
    dilation = (dilation_rate,) * 2 if isinstance(dilation_rate, int) else tuple(dilation_rate)
    x, back = _to_nchw(images, data_format)
    n, c, height, width = x.shape
    if padding.lower() == "same":
        top, bottom = _same_padding(height, size[0], strides[0], dilation[0])
        left, right = _same_padding(width, size[1], strides[1], dilation[1])
        x = F.pad(x, (left, right, top, bottom))
    dtype = x.dtype
    if not dtype.is_floating_point:  # `unfold` gathers floats only; integers survive float64
        x = x.to(torch.float64)
    columns = F.unfold(x, tuple(size), dilation=dilation, stride=strides).to(dtype)  # (N, C*ph*pw, L)
    out_h = (x.shape[2] - (size[0] - 1) * dilation[0] - 1) // strides[0] + 1
    out_w = (x.shape[3] - (size[1] - 1) * dilation[1] - 1) // strides[1] + 1
    patches = columns.reshape(n, c, size[0] * size[1], out_h, out_w)
    patches = patches.permute(0, 2, 1, 3, 4).reshape(n, size[0] * size[1] * c, out_h, out_w)
    return back(patches)


@keras_op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Extracts 3D patches from volumes into the channel axis: `(N, D', H', W', pd*ph*pw*C)`.

    Args:
        volumes: 4D or 5D tensor (`(N,) D, H, W, C`, or channels first).
        size: Patch size, an int or `(depth, height, width)`.
        strides: Step between patches (default: the patch size).
        dilation_rate: Dilation inside a patch.
        padding: `"valid"` or `"same"` (TensorFlow's asymmetric padding).
        data_format: `"channels_last"` or `"channels_first"`.
    """
    size = (size,) * 3 if isinstance(size, int) else tuple(size)
    if len(size) != 3:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 3. Received: size={size}")
    strides = size if strides is None else ((strides,) * 3 if isinstance(strides, int) else tuple(strides))
    if len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    dilation = (dilation_rate,) * 3 if isinstance(dilation_rate, int) else tuple(dilation_rate)
    volumes = _t(volumes)
    data_format = config.standardize_data_format(data_format)
    single = volumes.ndim == 4
    x = volumes.unsqueeze(0) if single else volumes
    if data_format == "channels_first":
        x = x.movedim(1, -1)  # (N, D, H, W, C)
    if padding.lower() == "same":
        pads = [_same_padding(x.shape[1 + i], size[i], strides[i], dilation[i]) for i in range(3)]
        x = F.pad(x, (0, 0) + pads[2] + pads[1] + pads[0])
    for axis in range(3):
        span = (size[axis] - 1) * dilation[axis] + 1
        x = x.unfold(1 + axis, span, strides[axis])[..., :: dilation[axis]]
    # x: (N, D', H', W', C, pd, ph, pw) -> (N, D', H', W', pd, ph, pw, C)
    patches = x.permute(0, 1, 2, 3, 5, 6, 7, 4).reshape(*x.shape[:4], -1)
    if data_format == "channels_first":
        patches = patches.movedim(-1, 1)
    return patches.squeeze(0) if single else patches


def _gaussian_1d(size, sigma, dtype, device):
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


@keras_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs images with a Gaussian kernel of `kernel_size` and standard deviations `sigma`."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    _check_rank(images)
    kernel_size = tuple(int(k) for k in kernel_size)
    sigma = tuple(float(s) for s in sigma)
    x, back = _to_nchw(images, data_format)
    channels = x.shape[1]
    # Keras pairs kernel_size[0] with sigma[0] for the columns' kernel (it builds outer(ky, kx)).
    kx = _gaussian_1d(kernel_size[0], sigma[0], x.dtype, x.device)
    ky = _gaussian_1d(kernel_size[1], sigma[1], x.dtype, x.device)
    kernel = torch.outer(ky, kx).reshape(1, 1, kernel_size[0], kernel_size[1])
    kernel = kernel.expand(channels, 1, *kernel_size)
    out = F.conv2d(x, kernel, padding=kernel_size[0] // 2, groups=channels)
    return back(out)


@keras_op
def sobel_edges(images, data_format=None):
    """Sobel edge maps: `(..., 2)` with the vertical (dy) then horizontal (dx) gradients."""
    images = _t(images)
    data_format = config.standardize_data_format(data_format)
    x = images.permute(0, 3, 1, 2) if data_format == "channels_last" else images
    channels = x.shape[1]
    dx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    kernels = torch.stack([dx.t(), dx]).unsqueeze(1).repeat(channels, 1, 1, 1)  # (2C, 1, 3, 3)
    edges = F.conv2d(x.repeat_interleave(2, dim=1), kernels, padding=1, groups=2 * channels)
    edges = edges.reshape(x.shape[0], channels, 2, *x.shape[2:]).movedim(2, -1)  # (N, C, H, W, 2)
    return edges.permute(0, 2, 3, 1, 4) if data_format == "channels_last" else edges


@keras_op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Applies projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]` to images.

    An output pixel `(x, y)` takes the input value at `((a0 x + a1 y + a2) / k, (b0 x + b1 y +
    b2) / k)`, `k = c0 x + c1 y + 1`, sampled with `interpolation` (`"nearest"` or `"bilinear"`)
    and `fill_mode` outside the image.

    Args:
        images: 3D or 4D image tensor.
        transform: `(8,)` or `(batch, 8)` transforms.
        interpolation: `"nearest"` or `"bilinear"`.
        fill_mode: `"constant"`, `"nearest"`, `"wrap"`, `"mirror"` or `"reflect"`.
        fill_value: The value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` or `"channels_first"`.
    """
    data_format = config.standardize_data_format(data_format)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one {'nearest', 'bilinear'}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one {set(_FILL_MODES)}. "
            f"Received: fill_mode={fill_mode}"
        )
    images = _t(images)
    transform = like(transform, images)
    _check_rank(images)
    if transform.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
            f"transforms). Received input with shape: transform.shape={tuple(transform.shape)}"
        )
    return warp(images, transform, interpolation, fill_mode, fill_value, data_format)


@keras_op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Structural similarity index between two images (or batches): one value per image."""
    data_format = config.standardize_data_format(data_format)
    image1, image2 = _t(image1), _t(image2)
    original = image1.dtype
    compute = to_torch_dtype(result_type(image1.dtype, float))
    _check_rank(image1, "image1")
    _check_rank(image2, "image2")
    x1, _ = _to_nchw(image1.to(compute), data_format)
    x2, _ = _to_nchw(image2.to(compute), data_format)
    n, c, height, width = x1.shape
    g = _gaussian_1d(filter_size, filter_sigma, compute, x1.device)
    kernel = torch.outer(g, g).reshape(1, 1, filter_size, filter_size)
    blur = lambda t: F.conv2d(t.reshape(n * c, 1, height, width), kernel)  # noqa: E731
    mu1, mu2 = blur(x1), blur(x2)
    sigma1 = blur(x1 * x1) - mu1 * mu1
    sigma2 = blur(x2 * x2) - mu2 * mu2
    sigma12 = blur(x1 * x2) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * sigma12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (sigma1 + sigma2 + c2))
    result = ssim_map.mean(dim=(1, 2, 3)).reshape(n, c).mean(-1)
    if image1.ndim == 3:
        result = result.squeeze(0)
    return result.to(original)
