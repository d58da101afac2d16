"""Neural-network ops (Keras 3's `keras.ops.nn`) on torch tensors and symbolic tensors.

Activations use torch's fused kernels. Convolutions and pooling take Keras's conventions:
`channels_last` inputs by default (`data_format=None` reads the global setting), kernels in
Keras's layout (`(*kernel_size, in_channels, out_channels)` for `conv`), and `padding="same"`
as TensorFlow computes it (extra padding at the end; average pooling divides by the real
elements only). Channels-last inputs reach torch's kernels as permuted views, not copies.
"""

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from keraslike.backend import config, runtime_flags
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


# ----------------------------------------------------------------------------------------------
# Activations.


@keras_op
def relu(x):
    """`max(x, 0)`."""
    return F.relu(_t(x))


@keras_op
def relu6(x):
    """`min(max(x, 0), 6)`."""
    return F.relu6(_t(x))


@keras_op
def sigmoid(x):
    """`1 / (1 + exp(-x))`."""
    return torch.sigmoid(_t(x))


@keras_op
def tanh(x):
    """Hyperbolic tangent."""
    return torch.tanh(_t(x))


@keras_op
def softplus(x):
    """`log(1 + exp(x))`."""
    return F.softplus(_t(x))


@keras_op
def softsign(x):
    """`x / (1 + |x|)`."""
    return F.softsign(_t(x))


@keras_op
def silu(x):
    """`x * sigmoid(x)` (a.k.a. swish)."""
    return F.silu(_t(x))


@keras_op
def swish(x):
    """Alias of `silu`."""
    return F.silu(_t(x))


@keras_op
def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    return F.logsigmoid(_t(x))


@keras_op
def leaky_relu(x, negative_slope=0.2):
    """`x` for `x >= 0`, `negative_slope * x` otherwise."""
    return F.leaky_relu(_t(x), negative_slope)


@keras_op
def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    return F.hardsigmoid(_t(x))


@keras_op
def hard_silu(x):
    """`x * hard_sigmoid(x)`."""
    return F.hardswish(_t(x))


@keras_op
def hard_swish(x):
    """Alias of `hard_silu`."""
    return F.hardswish(_t(x))


@keras_op
def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return F.hardtanh(_t(x))


@keras_op
def elu(x, alpha=1.0):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""
    return F.elu(_t(x), alpha)


@keras_op
def selu(x):
    """Scaled ELU with the self-normalizing constants."""
    return F.selu(_t(x))


@keras_op
def celu(x, alpha=1.0):
    """`max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))`."""
    return F.celu(_t(x), alpha=alpha)


@keras_op
def gelu(x, approximate=True):
    """Gaussian error linear unit (the tanh approximation by default, as in Keras)."""
    return F.gelu(_t(x), approximate="tanh" if approximate else "none")


@keras_op
def glu(x, axis=-1):
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half."""
    return F.glu(_t(x), dim=axis)


@keras_op
def soft_shrink(x, threshold=0.5):
    """Shrinks values toward zero by `threshold`."""
    return F.softshrink(_t(x), lambd=threshold)


@keras_op
def hard_shrink(x, threshold=0.5):
    """Zeroes values with `|x| <= threshold`."""
    return F.hardshrink(_t(x), lambd=threshold)


@keras_op
def tanh_shrink(x):
    """`x - tanh(x)`."""
    return F.tanhshrink(_t(x))


@keras_op
def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    return F.threshold(_t(x), threshold, default_value)


@keras_op
def squareplus(x, b=4):
    """`(x + sqrt(x^2 + b)) / 2`."""
    x = _t(x)
    return (x + torch.sqrt(x * x + b)) / 2


@keras_op
def sparse_plus(x):
    """0 below -1, `(x + 1)^2 / 4` on [-1, 1], `x` above."""
    x = _t(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


@keras_op
def sparse_sigmoid(x):
    """0 below -1, `(x + 1) / 2` on [-1, 1], 1 above."""
    return torch.clamp(0.5 * (_t(x) + 1), 0.0, 1.0)


def _over_axes(fn, x, axis):
    """Applies a last-axis `fn` over several axes at once (flattened together)."""
    axes = sorted(a % x.ndim for a in axis)
    keep = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(keep + axes)
    flat = moved.reshape([x.shape[d] for d in keep] + [-1])
    out = fn(flat, dim=-1).reshape(moved.shape)
    order = keep + axes
    inverse = sorted(range(x.ndim), key=order.__getitem__)
    return out.permute(inverse)


def _softmax_like(fn, x, axis):
    x = _t(x)
    if axis is None:
        return fn(x.reshape(-1), dim=-1).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        return _over_axes(fn, x, axis)
    return fn(x, dim=axis)


@keras_op
def softmax(x, axis=-1):
    """Softmax over `axis` (an int, a tuple of axes, or `None` for all)."""
    return _softmax_like(F.softmax, x, axis)


@keras_op
def log_softmax(x, axis=-1):
    """Log-softmax over `axis` (an int, a tuple of axes, or `None` for all)."""
    return _softmax_like(F.log_softmax, x, axis)


@keras_op
def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex along `axis`."""
    x = _t(x)
    z, _ = torch.sort(x, dim=axis, descending=True)
    cumsum = torch.cumsum(z, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    support = (1 + k * z) > cumsum
    k_max = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, z, torch.zeros_like(z)).sum(dim=axis, keepdim=True) - 1) / k_max
    return torch.clamp(x - tau, min=0)


# ----------------------------------------------------------------------------------------------
# Encodings.


@keras_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodes integer `x` into a new `axis` of length `num_classes`.

    Negative or out-of-range indices give all-zero rows (no host-side check, no sync).
    """
    if sparse:
        raise ValueError("`sparse=True` is not supported: keraslike tensors are dense.")
    x = _t(x)
    classes = torch.arange(num_classes, device=x.device, dtype=torch.long)
    out = (x.long().unsqueeze(-1) == classes).to(to_torch_dtype(dtype))
    if axis != -1 and axis != out.ndim - 1:
        out = torch.movedim(out, -1, axis)
    return out


@keras_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encodes integer `inputs`: 1 for every class present in a sample (last axis)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("Argument `num_classes` must be specified.")
    if sparse:
        raise ValueError("`sparse=True` is not supported: keraslike tensors are dense.")
    inputs = _t(inputs)
    reduction_axis = 1 if inputs.ndim > 1 else 0
    encoded = one_hot.eager(inputs, num_classes, axis=axis, dtype=dtype)
    return torch.amax(encoded, dim=reduction_axis)


# ----------------------------------------------------------------------------------------------
# Losses (per-sample, unreduced).


def _check_same_shape(target, output):
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


@keras_op
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy (probabilities clipped to `[eps, 1 - eps]`)."""
    output = _t(output)
    target = like(target, output).to(output.dtype)
    _check_same_shape(target, output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = config.epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return F.binary_cross_entropy(output, target, reduction="none")


@keras_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) `target` and `output` along `axis`."""
    output = _t(output)
    target = like(target, output)
    _check_same_shape(target, output)
    if output.ndim < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1.")
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        output = output / torch.sum(output, dim=axis, keepdim=True)
        eps = config.epsilon()
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(target * log_prob, dim=axis)


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer class `target` and `output` along `axis`."""
    output = _t(output)
    target = like(target, output).long()
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: {output.shape}")
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    squeeze = output.ndim == 1
    if squeeze:
        output, target = output.unsqueeze(0), target.unsqueeze(0)
    elif axis % output.ndim != 1:
        output = output.movedim(axis % output.ndim, 1)
    if from_logits:
        result = F.cross_entropy(output, target, reduction="none")
    else:
        output = output / torch.sum(output, dim=1, keepdim=True)
        eps = config.epsilon()
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
        result = F.nll_loss(log_prob, target, reduction="none")
    return result.squeeze(0) if squeeze else result


# ----------------------------------------------------------------------------------------------
# Normalization.


def _axes(axes):
    if isinstance(axes, int):
        return (axes,)
    return tuple(axes)


@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and (biased) variance of `x` over `axes`; `float16` is computed in `float32`."""
    if synchronized:
        raise NotImplementedError("Argument synchronized=True is not supported with PyTorch.")
    x = _t(x)
    dtype = x.dtype
    if dtype in (torch.float16, torch.bfloat16) or not dtype.is_floating_point:
        x = x.to(torch.float32)
    variance, mean = torch.var_mean(x, dim=_axes(axes), correction=0, keepdim=keepdims)
    if dtype == torch.float16:
        limit = torch.finfo(torch.float16).max
        mean = mean.clamp(-limit, limit)
        variance = variance.clamp(-limit, limit)
    if dtype in (torch.float16, torch.bfloat16):
        mean, variance = mean.to(dtype), variance.to(dtype)
    return mean, variance


@keras_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, parameters along `axis`."""
    x = _t(x)
    shape = [1] * x.ndim
    shape[axis] = -1
    mean = like(mean, x).reshape(shape)
    inv = torch.rsqrt(like(variance, x).reshape(shape) + epsilon)
    if scale is not None:
        inv = inv * like(scale, x).reshape(shape)
    out = (x - mean) * inv
    if offset is not None:
        out = out + like(offset, x).reshape(shape)
    return out


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """`x` divided by its `order`-norm along `axis` (the norm floored at `epsilon`)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = _t(x)
    if x.ndim == 0:
        x = x.unsqueeze(0)
    if epsilon is None:
        epsilon = config.epsilon()
    if order == 2:
        inv_norm = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True))
        return x * torch.clamp_max(inv_norm, 1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp_min(norm, epsilon)


# ----------------------------------------------------------------------------------------------
# Convolution and pooling.

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


# ----------------------------------------------------------------------------------------------
# Attention.


def _large_negative(dtype):
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


@keras_op
def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention on `(batch, seq, heads, head_dim)` tensors.

    Args:
        query: `(B, T, N, H)`.
        key, value: `(B, S, K, H)`, `K` dividing `N` (grouped-query attention when `K < N`).
        bias: Optional additive bias broadcastable to `(B, N, T, S)`.
        mask: Optional boolean mask broadcastable to `(B, N, T, S)`; `True` attends.
        scale: Logit scale; default `1 / sqrt(H)`.
        is_causal: Apply a causal (lower-triangular) mask.
        flash_attention: `True` forces torch's flash kernel, `False`/`None` lets torch choose.
        attn_logits_soft_cap: If set, logits become `cap * tanh(logits / cap)`.

    Returns:
        `(B, T, N, H)`.
    """
    query = _t(query)
    key, value = like(key, query), like(value, query)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. Received: "
            f"query.shape={tuple(query.shape)}, key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}."
        )
    if bias is not None and mask is not None:
        raise ValueError("Only one of `bias` and `mask` can be provided. Received both.")
    dtype = torch.promote_types(torch.promote_types(query.dtype, key.dtype), value.dtype)
    q, k, v = (t.to(dtype).transpose(1, 2) for t in (query, key, value))
    if k.shape[1] != q.shape[1]:
        groups = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    attn_mask = None
    if mask is not None:
        mask = like(mask, query).to(torch.bool)
        if is_causal:
            causal = torch.ones((q.shape[2], k.shape[2]), dtype=torch.bool, device=q.device).tril()
            mask = mask & causal
            is_causal = False
        attn_mask = torch.where(
            mask,
            torch.zeros((), dtype=dtype, device=q.device),
            torch.full((), _large_negative(dtype), dtype=dtype, device=q.device),
        )
    elif bias is not None:
        attn_mask = like(bias, query).to(dtype)
    if attn_logits_soft_cap is not None:
        scale = q.shape[-1] ** -0.5 if scale is None else scale
        logits = torch.matmul(q, k.transpose(-1, -2)) * scale
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
        if attn_mask is not None:
            logits = logits + attn_mask
        if is_causal:
            causal = torch.ones(logits.shape[-2:], dtype=torch.bool, device=q.device).tril()
            logits = logits.masked_fill(~causal, _large_negative(dtype))
        out = torch.matmul(torch.softmax(logits, dim=-1), v)
    elif flash_attention is None and runtime_flags.is_flash_attention_enabled() is False:
        # keras.config.disable_flash_attention(): torch may use any kernel but flash.
        with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]):
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
            )
    elif flash_attention or (flash_attention is None and runtime_flags.is_flash_attention_enabled()):
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
            )
    else:
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale
        )
    return out.transpose(1, 2)


# Added for Keras 3 API breadth (issue 11); they live in ops/nn_more.py.
from keraslike.ops.nn_more import (  # noqa: E402
    adaptive_average_pool,
    adaptive_max_pool,
    ctc_decode,
    ctc_loss,
    depth_to_space,
    fold,
    layer_normalization,
    polar,
    psnr,
    rms_normalization,
    space_to_depth,
    unfold,
)
