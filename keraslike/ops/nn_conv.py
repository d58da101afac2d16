"""Convolution and pooling ops of `keras.ops.nn` (re-exported by `keraslike.ops.nn`).

Keras's conventions: `channels_last` inputs by default (`data_format=None` reads the global
setting), kernels in Keras's layout (`(*kernel_size, in_channels, out_channels)` for `conv`), and
`padding="same"` as TensorFlow computes it (extra padding at the end; average pooling divides by
the real elements only). Channels-last inputs reach torch's kernels as permuted views, not copies.
"""

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.ops.core import like, to_tensor
from keraslike.ops.dispatch import keras_op


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"`{name}` must have {n} values. Received: {name}={value}")
    return value


def _to_channels_first(x, data_format):
    if data_format == "channels_last":
        return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))
    return x


def _to_channels_last(x, data_format):
    if data_format == "channels_last":
        return x.permute(0, *range(2, x.ndim), 1)
    return x


def _check_rank(x, what):
    if x.ndim not in (3, 4, 5):
        raise ValueError(
            f"Inputs to {what} must have ndim=3, 4 or 5, corresponding to 1D, 2D and 3D inputs. "
            f"Received input shape: {tuple(x.shape)}."
        )
    return x.ndim - 2


def _same_pads(size, kernel, stride, dilation=1):
    """TensorFlow's (before, after) padding for `padding="same"`."""
    extent = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def _flat_pads(pads):
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return flat


def _pad_for(x, padding, kernel, strides, dilation, fill=0.0):
    """Returns `(x, torch_padding)` for Keras's `padding` (asymmetric pads applied to `x`)."""
    padding = padding.lower()
    if padding == "valid":
        return x, 0
    if padding != "same":
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    pads = [_same_pads(n, k, s, d) for n, k, s, d in zip(x.shape[2:], kernel, strides, dilation)]
    if all(b == a for b, a in pads):
        return x, tuple(b for b, _ in pads)
    return F.pad(x, _flat_pads(pads), value=fill), 0


def _conv_kernel(kernel):
    """Keras `(*spatial, in, out)` -> torch `(out, in, *spatial)` (a view)."""
    n = kernel.ndim - 2
    return kernel.permute(n + 1, n, *range(n))


@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution with a Keras-layout kernel `(*kernel_size, in_channels / groups, filters)`.

    Grouped when the input has a multiple of the kernel's input channels.
    """
    inputs = _t(inputs)
    kernel = like(kernel, inputs)
    rank = _check_rank(inputs, "conv operation")
    data_format = config.standardize_data_format(data_format)
    strides = _tuple(strides, rank, "strides")
    dilation = _tuple(dilation_rate, rank, "dilation_rate")
    x = _to_channels_first(inputs, data_format)
    weight = _conv_kernel(kernel)
    if x.shape[1] % weight.shape[1] != 0:
        raise ValueError(
            f"The number of input channels ({x.shape[1]}) must be a multiple of the kernel's "
            f"input channels ({weight.shape[1]}). Received: inputs.shape={tuple(inputs.shape)}, "
            f"kernel.shape={tuple(kernel.shape)}"
        )
    groups = x.shape[1] // weight.shape[1]
    x, pad = _pad_for(x, padding, weight.shape[2:], strides, dilation)
    out = _CONV[rank](x, weight, None, strides, pad, dilation, groups)
    return _to_channels_last(out, data_format)


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution with a Keras kernel `(*kernel_size, in_channels, multiplier)`."""
    inputs = _t(inputs)
    kernel = like(kernel, inputs)
    kernel = kernel.reshape(tuple(kernel.shape[:-2]) + (1, kernel.shape[-2] * kernel.shape[-1]))
    return conv.eager(inputs, kernel, strides, padding, data_format, dilation_rate)


@keras_op
def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """Depthwise convolution followed by a pointwise (1x1) convolution."""
    out = depthwise_conv.eager(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv.eager(out, pointwise_kernel, 1, "valid", data_format, dilation_rate)


def _transpose_pads(kernel, stride, dilation, padding, output_padding):
    """Keras's (left, right) padding of the stride-dilated input of a transposed convolution."""
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(extent, stride) - extent
        return extent - 1, extent - 1 + output_padding
    if output_padding is None:
        total = stride + extent - 2
    else:
        total = extent + extent % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, extent - 1)
    return left, total - left


@keras_op
def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """N-D transposed convolution with a Keras kernel `(*kernel_size, filters, in_channels)`."""
    inputs = _t(inputs)
    kernel = like(kernel, inputs)
    rank = _check_rank(inputs, "conv transpose operation")
    data_format = config.standardize_data_format(data_format)
    strides = _tuple(strides, rank, "strides")
    dilation = _tuple(dilation_rate, rank, "dilation_rate")
    if output_padding is None or isinstance(output_padding, int):
        output_padding = (output_padding,) * rank
    padding = padding.lower()
    x = _to_channels_first(inputs, data_format)
    # Keras (*spatial, out, in) -> torch (in, out, *spatial).
    weight = kernel.permute(rank + 1, rank, *range(rank))
    out = _CONV_T[rank](x, weight, None, strides, 0, 0, 1, dilation)
    index = [slice(None), slice(None)]
    extra = []
    for k, s, d, op in zip(kernel.shape[:rank], strides, dilation, output_padding):
        left, right = _transpose_pads(k, s, d, padding, op)
        extent = (k - 1) * d + 1
        crop_left, crop_right = extent - 1 - left, extent - 1 - right
        index.append(slice(max(crop_left, 0), -crop_right if crop_right > 0 else None))
        extra.append((max(-crop_left, 0), max(-crop_right, 0)))
    out = out[tuple(index)]
    if any(a or b for a, b in extra):
        out = F.pad(out, _flat_pads(extra))
    return _to_channels_last(out, data_format)


def _pool(inputs, pool_size, strides, padding, data_format, mode):
    inputs = _t(inputs)
    rank = _check_rank(inputs, "pooling op")
    data_format = config.standardize_data_format(data_format)
    pool_size = _tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, rank, "strides")
    x = _to_channels_first(inputs, data_format)
    ones = (1,) * rank
    if mode == "max":
        x, pad = _pad_for(x, padding, pool_size, strides, ones, fill=float("-inf"))
        out = _MAX_POOL[rank](x, pool_size, strides, pad)
    else:
        padded, pad = _pad_for(x, padding, pool_size, strides, ones)
        if padded is x:
            out = _AVG_POOL[rank](x, pool_size, strides, pad, count_include_pad=False)
        else:  # asymmetric "same": zero-padded window means over the share of real elements
            out = _AVG_POOL[rank](padded, pool_size, strides)
            counts = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
            counts, _ = _pad_for(counts, padding, pool_size, strides, ones)
            out = out / _AVG_POOL[rank](counts, pool_size, strides)
    return _to_channels_last(out, data_format)


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over 1, 2 or 3 spatial dimensions (`strides` default to `pool_size`)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over 1, 2 or 3 spatial dimensions (padding excluded from the averages)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average")
