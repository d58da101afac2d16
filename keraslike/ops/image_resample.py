"""`keras.ops.image.scale_and_translate`: separable resampling by a scale and a translation.

Each spatial dimension is resampled by one dense `(input_size, output_size)` weight matrix
(a matmul per dimension), as JAX's `jax.image.scale_and_translate` and Keras 3 compute it.
"""

import math

import torch

from keraslike.backend.dtypes import result_type
from keraslike.ops.core import to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op

_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3",
            "lanczos5")
_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _triangle(x):
    return torch.clamp(1 - x, min=0)


def _keys_cubic(x):
    """Keys' cubic convolution kernel with a = -0.5, on `x = |distance|`."""
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return torch.where(x >= 2.0, 0.0, torch.where(x >= 1.0, far, near))


def _lanczos(radius):
    def kernel(x):
        y = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
        safe = torch.where(x != 0, math.pi**2 * x**2, 1)
        out = torch.where(x > 1e-3, y / safe, 1)
        return torch.where(x > radius, 0.0, out)

    return kernel


_KERNELS = {"linear": _triangle, "cubic": _keys_cubic, "lanczos3": _lanczos(3.0),
            "lanczos5": _lanczos(5.0)}


def _weights(input_size, output_size, scale, translation, kernel, antialias):
    """`(input_size, output_size)` matrix: column `j` weighs the inputs of output sample `j`."""
    inv_scale = 1.0 / scale
    # When shrinking with antialiasing, the kernel is widened by 1/scale (a low-pass filter).
    kernel_scale = torch.clamp(inv_scale, min=1.0) if antialias else 1.0
    positions = torch.arange(output_size, dtype=scale.dtype, device=scale.device)
    sample = (positions + 0.5) * inv_scale - translation * inv_scale - 0.5  # input coordinates
    inputs = torch.arange(input_size, dtype=scale.dtype, device=scale.device)
    weights = kernel(torch.abs(sample[None, :] - inputs[:, None]) / kernel_scale)
    total = weights.sum(dim=0, keepdim=True)
    tiny = 1000.0 * torch.finfo(torch.float32).eps
    weights = torch.where(total.abs() > tiny, weights / torch.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= input_size - 0.5)  # samples off the image are zero
    return torch.where(inside[None, :], weights, 0)


@keras_op
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Applies a scale and translation to the images, resampling with a separable kernel.

    Generates a new image of `output_shape` by resampling the input: for 2-D images an input
    location `(x, y)` maps to `(x * scale[1] + translation[1], y * scale[0] + translation[0])`
    in the output (the inverse warp gives the sample locations). Pixels are half-centred: the
    pixel at row `r`, column `c` has coordinates `(r + 0.5, c + 0.5)`. Output pixels that map
    outside the input are zero.

    Args:
        images: The input tensor, of any rank.
        output_shape: The output shape, one integer per dimension of `images`.
        scale: A `[K]` tensor, the scale of each dimension of `spatial_dims`.
        translation: A `[K]` tensor, the translation of each dimension of `spatial_dims`.
        spatial_dims: A length-`K` tuple of the dimensions to resample.
        method: `"linear"`, `"bilinear"`, `"trilinear"` (a triangle kernel), `"cubic"`,
            `"bicubic"`, `"tricubic"` (Keys' cubic kernel), `"lanczos3"` or `"lanczos5"`.
        antialias: Whether to widen the kernel when downsampling (no effect when upsampling).
            Defaults to `True`.

    Returns:
        The resampled images, of `output_shape` and the dtype of `images` (integer images are
        computed in float32, rounded and clipped to the input's range).

    Example:

    >>> images = np.arange(9, dtype="float32").reshape((3, 3))
    >>> scale = np.array([2.0, 2.0], "float32")
    >>> keras.ops.image.scale_and_translate(images, (5, 5), scale, -(scale / 2.0 - 0.5),
    ...                                     (0, 1), "linear")[0]
    tensor([0.0000, 0.5000, 1.0000, 1.5000, 2.0000])
    """
    if method not in _METHODS:
        raise ValueError(
            f"Invalid value for argument `method`. Expected of one {set(_METHODS)}. "
            f"Received: method={method}"
        )
    kernel = _KERNELS["linear" if "linear" in method else "cubic" if "cubic" in method
                      else method]
    images = to_tensor(images)
    scale = to_tensor(scale)
    translation = to_tensor(translation)
    dtype = to_torch_dtype(result_type(scale.dtype, translation.dtype))
    scale = scale.to(dtype=dtype, device=images.device)
    translation = translation.to(dtype=dtype, device=images.device)
    if len(spatial_dims) == 0:
        return images
    rounding = images.dtype in _INT_DTYPES
    output = images.to(torch.float32) if rounding else images
    for i, dim in enumerate(spatial_dims):
        dim = dim % images.ndim
        w = _weights(images.shape[dim], int(output_shape[dim]), scale[i], translation[i], kernel,
                     antialias).to(output.dtype)
        output = torch.movedim(torch.movedim(output, dim, -1) @ w, -1, dim)
    if rounding:
        output = torch.clamp(torch.round(output), images.min(), images.max()).to(images.dtype)
    return output
