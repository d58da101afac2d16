"""NumPy-style reductions: sums, means, extrema, moments, cumulative ops, quantiles."""

import torch

from keraslike.ops.core import like, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import (
    _SMALL_INTS,
    _canonical,
    _cast,
    _cpu_compute,
    _dims,
    _result,
    _t,
)


# ----------------------------------------------------------------------------------------------
# Reductions.


def _sum_dtype(dtype):
    """Keras's accumulation dtype: `int32` for booleans and small ints, else the input's."""
    if dtype in _SMALL_INTS:
        return torch.int32
    return None if dtype.is_floating_point or dtype.is_complex else dtype


@keras_op(name="sum")
def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (all axes when `None`); booleans and small ints give `int32`."""
    x = _t(x)
    if axis == () or axis == []:
        return x
    dtype = _sum_dtype(x.dtype)
    if axis is None and not keepdims:
        return torch.sum(x, dtype=dtype)
    return torch.sum(x, dim=_dims(axis), keepdim=keepdims, dtype=dtype)


@keras_op
def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over `axis`; integer and boolean inputs give `float32`.

    As in Keras, the mean is computed in `result_type(x.dtype, "float32")` (so `float16` and
    `float64` in `float32`) and float inputs keep their dtype.
    """
    x = _t(x)
    if axis == () or axis == []:
        return x
    if x.dtype is torch.float32:  # the common case, computed and returned as is
        return torch.mean(x) if axis is None and not keepdims else torch.mean(
            x, dim=_dims(axis), keepdim=keepdims
        )
    compute = _result(x.dtype, torch.float32)
    out_dtype = x.dtype if (x.dtype.is_floating_point or x.dtype.is_complex) else compute
    x = _cast(x, compute)
    if axis is None and not keepdims:
        return _cast(torch.mean(x), out_dtype)
    return _cast(torch.mean(x, dim=_dims(axis), keepdim=keepdims), out_dtype)


def _extreme(x, axis, keepdims, initial, reduce_fn, combine_fn, what):
    x = _t(x)
    if x.numel() == 0:
        if initial is None:
            raise ValueError(f"Cannot compute the {what} of an empty tensor.")
        shape = (1,) * x.ndim if keepdims else ()
        return torch.full(shape, initial, dtype=x.dtype, device=x.device)
    if axis == () or axis == []:
        result = x
    else:
        result = reduce_fn(x, dim=() if axis is None else _dims(axis), keepdim=keepdims)
    if initial is not None:
        result = combine_fn(result, torch.full((), initial, dtype=result.dtype, device=x.device))
    return result


@keras_op(name="max")
def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over `axis` (all axes when `None`), at least `initial` when given."""
    return _extreme(x, axis, keepdims, initial, torch.amax, torch.maximum, "max")


@keras_op(name="min")
def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over `axis` (all axes when `None`), at most `initial` when given."""
    return _extreme(x, axis, keepdims, initial, torch.amin, torch.minimum, "min")


@keras_op
def amax(x, axis=None, keepdims=False):
    """Maximum over `axis` (all axes when `None`)."""
    return _extreme(x, axis, keepdims, None, torch.amax, None, "max")


@keras_op
def amin(x, axis=None, keepdims=False):
    """Minimum over `axis` (all axes when `None`)."""
    return _extreme(x, axis, keepdims, None, torch.amin, None, "min")


@keras_op
def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over `axis`; booleans and small ints give `int32`, `int64`/`float64` 32 bits (as
    Keras's `result_type`) unless `dtype` is given."""
    x = _t(x)
    if dtype is None:
        dtype = torch.int32 if x.dtype in _SMALL_INTS else _result(x.dtype)
    else:
        dtype = to_torch_dtype(dtype)
    compute = _cpu_compute(dtype, x.device)
    if axis is None:
        out = _cast(torch.prod(x, dtype=compute), dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    axes = sorted((_canonical(a, x.ndim) for a in axes), reverse=True)
    for a in axes:
        x = _cast(torch.prod(x, dim=a, keepdim=keepdims, dtype=compute), dtype)
    return x


def _moment(x, axis, keepdims, fn):
    x = _t(x)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(torch.float32)
    if axis == () or axis == []:
        return torch.zeros_like(x)
    return fn(x, dim=_dims(axis), keepdim=keepdims, correction=0)


@keras_op
def var(x, axis=None, keepdims=False):
    """Population variance over `axis`, computed in `float32` (or wider) as Keras does.

    The result has Keras's `result_type(x.dtype, float)`: integers give `floatx()`, `float64`
    gives `float32`, `float16` stays `float16`.
    """
    x = _t(x)
    result = x.dtype if x.dtype is torch.float32 else _result(x.dtype, float)
    if axis == () or axis == []:
        return torch.zeros(x.shape, dtype=result, device=x.device)
    if x.dtype is not torch.float32:
        x = _cast(x, _result(x.dtype, torch.float32))
    return _cast(torch.var(x, dim=_dims(axis), keepdim=keepdims, correction=0), result)


@keras_op
def std(x, axis=None, keepdims=False):
    """Population standard deviation over `axis`; integer inputs give `float32`."""
    return _moment(x, axis, keepdims, torch.std)


def _arg_extreme(x, axis, keepdims, fn):
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return fn(x, dim=axis, keepdim=keepdims).to(torch.int32)


@keras_op
def argmax(x, axis=None, keepdims=False):
    """Index (`int32`) of the maximum along `axis` (of the flattened tensor when `None`)."""
    return _arg_extreme(x, axis, keepdims, torch.argmax)


@keras_op
def argmin(x, axis=None, keepdims=False):
    """Index (`int32`) of the minimum along `axis` (of the flattened tensor when `None`)."""
    return _arg_extreme(x, axis, keepdims, torch.argmin)


def _cumulative(x, axis, dtype, fn):
    x = _t(x)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    # Keras's `result_type(dtype or x.dtype)`: 64-bit results narrowed to 32, even when asked for.
    dtype = _result(x.dtype if dtype is None else to_torch_dtype(dtype))
    if dtype == torch.bool:
        dtype = torch.int32
    return _cast(fn(x, dim=axis, dtype=_cpu_compute(dtype, x.device)), dtype)


@keras_op
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (of the flattened tensor when `None`)."""
    return _cumulative(x, axis, dtype, torch.cumsum)


@keras_op
def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (of the flattened tensor when `None`)."""
    return _cumulative(x, axis, dtype, torch.cumprod)


def _logical_reduce(x, axis, keepdims, fn):
    x = _t(x)
    if axis == () or axis == []:
        return x.to(torch.bool)
    if axis is None and not keepdims:
        out = fn(x)
    else:
        out = fn(x, dim=tuple(range(x.ndim)) if axis is None else _dims(axis), keepdim=keepdims)
    return out if out.dtype == torch.bool else out.to(torch.bool)


@keras_op(name="all")
def all(x, axis=None, keepdims=False):
    """Whether all entries along `axis` are true (non-zero)."""
    return _logical_reduce(x, axis, keepdims, torch.all)


@keras_op(name="any")
def any(x, axis=None, keepdims=False):
    """Whether any entry along `axis` is true (non-zero)."""
    return _logical_reduce(x, axis, keepdims, torch.any)


@keras_op
def count_nonzero(x, axis=None):
    """Number (`int32`) of non-zero entries along `axis`."""
    x = _t(x)
    if axis == () or axis == []:
        return torch.ne(x, 0).to(torch.int32)
    return torch.count_nonzero(x, dim=_dims(axis)).to(torch.int32)


@keras_op
def average(x, axis=None, weights=None):
    """Weighted mean along `axis` (a 1-D `weights` of the axis' length, or one of `x`'s shape).

    The result dtype is Keras's `result_type(x.dtype, weights.dtype, float)` (`float64` gives
    `float32`).
    """
    x = _t(x)
    if weights is None:
        return mean.eager(_cast(x, _result(x.dtype, float)), axis=axis)
    weights = like(weights, x)
    dtype = _result(x.dtype, weights.dtype, float)
    x, weights = _cast(x, dtype), _cast(weights, dtype)
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[_canonical(axis, x.ndim)] = -1
        weights = weights.reshape(shape)
    weights = torch.broadcast_to(weights, x.shape)
    return torch.sum(x * weights, dim=axis) / torch.sum(weights, dim=axis)


def _quantile(x, q, axis, method, keepdims):
    x = _t(x)
    # Keras: computed in `result_type(x, "float32")`, returned as `result_type(x, float)`.
    result_dtype = _result(x.dtype, float)
    x = _cast(x, _result(x.dtype, torch.float32))
    q = _cast(like(q, x), x.dtype)
    if axis is None:
        y = x.reshape(-1)
        axes = list(range(x.ndim))
    else:
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        axes = [_canonical(a, x.ndim) for a in axes]
        others = [d for d in range(x.ndim) if d not in axes]
        y = x.permute(others + axes).reshape([x.shape[d] for d in others] + [-1])
    y = torch.quantile(y, q, dim=-1, interpolation=method)
    if keepdims:
        for a in sorted(axes):
            y = y.unsqueeze(a + 1 if q.ndim > 0 else a)
    return y.to(result_dtype)


@keras_op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantiles (`0 <= q <= 1`) along `axis`."""
    return _quantile(x, q, axis, method, keepdims)


@keras_op
def median(x, axis=None, keepdims=False):
    """Median along `axis` (the middle two averaged, as in NumPy)."""
    return _quantile(x, 0.5, axis, "linear", keepdims)


