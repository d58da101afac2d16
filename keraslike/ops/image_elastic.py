"""`keras.ops.image.elastic_transform`: random smooth displacement fields, all images of a batch
sampled at once (Keras 3's torch backend loops over images and channels in Python)."""

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.ops.core import to_tensor
from keraslike.ops.dispatch import keras_op
from keraslike.ops.image_sampling import _FILL_MODES, sample_nhwc


def _generator(seed, device):
    """A torch generator for `seed` (an int or a `SeedGenerator`, seeded as `keras.random`
    seeds them), or `None` (torch's global generator) for `seed=None`."""
    if seed is None or torch.compiler.is_compiling() or torch.device(device).type == "meta":
        return None  # on `meta` (shape inference) nothing is drawn and no state advances
    if hasattr(seed, "draw_int"):  # a keras.random.SeedGenerator: advances its state
        value = seed.draw_int()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        value = seed & 0xFFFFFFFF
    else:
        raise ValueError(
            "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    generator = torch.Generator(device=device)
    generator.manual_seed(value)
    return generator


def _blur(fields, sigma, kernel_size):
    """Gaussian blur of `(B, 1, H, W)` fields with zero padding, as Keras's `gaussian_blur`."""
    x = torch.arange(kernel_size, dtype=fields.dtype, device=fields.device)
    taps = torch.exp(-0.5 * ((x - (kernel_size - 1) / 2) / sigma) ** 2)
    taps = taps / taps.sum()
    kernel = torch.outer(taps, taps).view(1, 1, kernel_size, kernel_size)
    return F.conv2d(fields, kernel, padding=kernel_size // 2)


@keras_op
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Applies a random elastic deformation to images.

    Each pixel moves by `alpha` times a random displacement field (standard normal noise
    times `sigma`, smoothed by a Gaussian of standard deviation `sigma`), one field per image.

    Args:
        images: A 3D (one image) or 4D (batch) image tensor.
        alpha: Scale of the displacements (a number).
        sigma: Standard deviation of the smoothing Gaussian (a number; the kernel size is
            `int(6 * sigma) | 1`).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"constant"`, `"nearest"`, `"wrap"` or `"mirror"`.
        fill_value: The value outside the image for `fill_mode="constant"`.
        seed: An integer or a `keras.random.SeedGenerator`; `None` draws from torch's global
            generator.
        data_format: `"channels_last"` or `"channels_first"` (default from
            `keras.config.image_data_format()`).

    Returns:
        The deformed images, shaped and typed like `images`.

    Example:

    >>> x = np.random.random((2, 64, 80, 3))
    >>> keras.ops.image.elastic_transform(x, seed=1).shape
    torch.Size([2, 64, 80, 3])
    """
    data_format = config.standardize_data_format(data_format)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one {'nearest', "
            f"'bilinear'}}. Received: interpolation={interpolation}"
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one {_FILL_MODES}. "
            f"Received: fill_mode={fill_mode}"
        )
    images = images if isinstance(images, torch.Tensor) else to_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={tuple(images.shape)}"
        )
    alpha, sigma = float(alpha), float(sigma)
    kernel_size = int(6 * sigma) | 1
    single = images.ndim == 3
    x = images.unsqueeze(0) if single else images
    if data_format == "channels_first":
        x = x.permute(0, 2, 3, 1)
    batch, height, width, _ = x.shape  # (B, H, W, C)
    dtype = x.dtype if x.dtype.is_floating_point else torch.float32
    generator = _generator(seed, x.device)
    noise = torch.randn((2 * batch, 1, height, width), generator=generator, dtype=dtype,
                        device=x.device) * sigma
    dx, dy = _blur(noise, sigma, kernel_size).view(2, batch, height, width)
    ys = torch.arange(height, dtype=dtype, device=x.device).view(1, height, 1)
    xs = torch.arange(width, dtype=dtype, device=x.device).view(1, 1, width)
    out = sample_nhwc(x, xs + alpha * dx, ys + alpha * dy, interpolation, fill_mode, fill_value)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out.squeeze(0) if single else out
