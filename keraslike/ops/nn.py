"""Neural-network ops (Keras 3's `keras.ops.nn`) on torch tensors and symbolic tensors.

Activations use torch's fused kernels. This file holds activations, one-hot encodings, the
crossentropies and the normalization ops; convolution and pooling live in `nn_conv.py`,
`dot_product_attention` in `nn_attention.py`, later additions in `nn_more.py`, all re-exported
here.
"""

import warnings

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _cpu_compute, _float_result


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
    b = like(b, x)  # a Python `b` is an `int32`/`floatx()` tensor for promotion, as in Keras
    return (x + torch.sqrt(x**2 + b)) / 2


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


def warn_if_softmax_axis_has_size_one(x, axis):
    """Warns, as Keras does, when a softmax runs over an axis of size 1 (the result is always 1).

    The check reads the static shape only (no host sync); a symbolic call warns once, when
    the graph is built.
    """
    if isinstance(axis, int) and -x.dim() <= axis < x.dim() and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a softmax over axis {axis} of a tensor of shape {x.shape}. This axis "
            "has size 1. The softmax operation will always return the value 1, which is likely "
            "not what you intended. Did you mean to use a sigmoid instead?",
            stacklevel=3,
        )


@keras_op
def softmax(x, axis=-1):
    """Softmax over `axis` (an int, a tuple of axes, or `None` for all)."""
    x = _t(x)
    warn_if_softmax_axis_has_size_one(x, axis)
    return _softmax_like(F.softmax, x, axis)


@keras_op
def log_softmax(x, axis=-1):
    """Log-softmax over `axis` (an int, a tuple of axes, or `None` for all)."""
    x = _t(x)
    compute = _cpu_compute(x.dtype, x.device)  # as Keras: float16 in float32 on CPU
    return _softmax_like(F.log_softmax, x.to(compute), axis).to(x.dtype)


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
    if not output.dtype.is_floating_point:  # integer probabilities (0 or 1), as Keras accepts
        output = output.to(to_torch_dtype(config.floatx()))
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
        limit = 1.0 / epsilon
        if inv_norm.dtype.is_floating_point and limit > torch.finfo(inv_norm.dtype).max:
            limit = float("inf")  # 1 / epsilon overflows float16: Keras's bound is inf there
        return x * torch.clamp_max(inv_norm, limit)
    # As `keras.ops.norm`: integers in `floatx()`, other dtypes in `result_type(dtype, float)`.
    norm = torch.linalg.norm(x.to(_float_result(x.dtype)), ord=order, dim=axis, keepdim=True)
    return torch.divide(x, torch.clamp_min(norm, epsilon))


# Families in their own files, re-exported here: `keras.ops.nn` is one namespace.
from keraslike.ops.nn_attention import dot_product_attention  # noqa: E402
from keraslike.ops.nn_conv import (  # noqa: E402
    average_pool,
    conv,
    conv_transpose,
    depthwise_conv,
    max_pool,
    separable_conv,
)

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
