"""Statistics and NaN-ignoring reductions (`nan*`, `percentile`, `histogram`, `bincount`, ...)."""

import math

import torch

from keraslike.backend import config
from keraslike.backend.dtypes import result_type, standardize_dtype
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _canonical, _cast, _dims, _t
from keraslike.ops.numpy.reduction import argmax, argmin, cumprod, cumsum, prod, quantile

_NO_AXES = ((), [])


def _all_nan(x, axis, keepdims):
    isnan = torch.isnan(x)
    return isnan.all() if axis is None else isnan.all(dim=_dims(axis), keepdim=keepdims)


def _amax(x, axis, keepdims):
    return torch.amax(x, dim=() if axis is None else _dims(axis), keepdim=keepdims)


def _amin(x, axis, keepdims):
    return torch.amin(x, dim=() if axis is None else _dims(axis), keepdim=keepdims)


@keras_op
def nanmax(x, axis=None, keepdims=False):
    """Maximum along `axis`, ignoring NaNs (NaN where a slice is all NaN)."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return _amax(x, axis, keepdims)
    if axis in _NO_AXES:
        return x
    out = _amax(torch.where(torch.isnan(x), float("-inf"), x), axis, keepdims)
    return torch.where(_all_nan(x, axis, keepdims), torch.full((), float("nan"), dtype=x.dtype, device=x.device), out)


@keras_op
def nanmin(x, axis=None, keepdims=False):
    """Minimum along `axis`, ignoring NaNs (NaN where a slice is all NaN)."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return _amin(x, axis, keepdims)
    if axis in _NO_AXES:
        return x
    out = _amin(torch.where(torch.isnan(x), float("inf"), x), axis, keepdims)
    return torch.where(_all_nan(x, axis, keepdims), torch.full((), float("nan"), dtype=x.dtype, device=x.device), out)


@keras_op
def nanargmax(x, axis=None, keepdims=False):
    """Indices (`int32`) of the maxima along `axis`, ignoring NaNs (-1 for all-NaN slices)."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return argmax.eager(x, axis=axis, keepdims=keepdims)
    index = argmax.eager(torch.where(torch.isnan(x), float("-inf"), x), axis=axis, keepdims=keepdims)
    return torch.where(_all_nan(x, axis, keepdims), torch.full((), -1, dtype=torch.int32, device=x.device), index)


@keras_op
def nanargmin(x, axis=None, keepdims=False):
    """Indices (`int32`) of the minima along `axis`, ignoring NaNs (-1 for all-NaN slices)."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return argmin.eager(x, axis=axis, keepdims=keepdims)
    index = argmin.eager(torch.where(torch.isnan(x), float("inf"), x), axis=axis, keepdims=keepdims)
    return torch.where(_all_nan(x, axis, keepdims), torch.full((), -1, dtype=torch.int32, device=x.device), index)


@keras_op
def nansum(x, axis=None, keepdims=False):
    """Sum along `axis`, treating NaNs as zero (booleans and small ints give `int32`)."""
    x = _t(x)
    dtype = standardize_dtype(x.dtype)
    if dtype in ("bool", "uint8", "int8", "int16"):
        dtype = "int32"
    if axis in _NO_AXES:
        return _cast(torch.nan_to_num(x, nan=0), dtype)
    if axis is None:
        return _cast(torch.nansum(x, dim=None, keepdim=keepdims) if keepdims else torch.nansum(x), dtype)
    return _cast(torch.nansum(x, dim=_dims(axis), keepdim=keepdims), dtype)


@keras_op
def nanprod(x, axis=None, keepdims=False):
    """Product along `axis`, treating NaNs as one."""
    x = _t(x)
    if axis in _NO_AXES:
        return torch.nan_to_num(x, nan=1)
    if x.dtype.is_floating_point:
        x = torch.where(torch.isnan(x), torch.ones((), dtype=x.dtype, device=x.device), x)
    return prod.eager(x, axis=axis, keepdims=keepdims)


@keras_op
def nanmean(x, axis=None, keepdims=False):
    """Mean along `axis`, ignoring NaNs (integers give `floatx()`)."""
    x = _t(x)
    if axis in _NO_AXES:
        return x
    x = _cast(x, result_type(x.dtype, float))
    return torch.nanmean(x, dim=None if axis is None else _dims(axis), keepdim=keepdims)


@keras_op
def nanvar(x, axis=None, keepdims=False):
    """Variance along `axis`, ignoring NaNs."""
    x = _t(x)
    x = _cast(x, result_type(x.dtype, float))
    if axis in _NO_AXES:
        return torch.where(torch.isnan(x), x, torch.zeros((), dtype=x.dtype, device=x.device))
    dims = None if axis is None else _dims(axis)
    valid = ~torch.isnan(x)
    mean = torch.nanmean(x, dim=dims, keepdim=True)
    centered = torch.where(valid, x - mean, torch.zeros_like(x))
    squares = centered.abs().square() if centered.is_complex() else centered.square()
    if dims is None:
        total, count = squares.sum(), valid.sum()
        if keepdims:
            shape = (1,) * x.ndim
            total, count = total.reshape(shape), count.reshape(shape)
        return total / count
    return squares.sum(dim=dims, keepdim=keepdims) / valid.sum(dim=dims, keepdim=keepdims)


@keras_op
def nanstd(x, axis=None, keepdims=False):
    """Standard deviation along `axis`, ignoring NaNs."""
    return torch.sqrt(nanvar.eager(x, axis=axis, keepdims=keepdims))


@keras_op
def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (flattened when `None`), treating NaNs as zero."""
    return cumsum.eager(torch.nan_to_num(_t(x), nan=0.0), axis=axis, dtype=dtype)


@keras_op
def nancumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (flattened when `None`), treating NaNs as one."""
    return cumprod.eager(torch.nan_to_num(_t(x), nan=1.0), axis=axis, dtype=dtype)


def _quantile_over_axes(x, q, axis, method, keepdims, fn):
    x = _t(x)
    q = like(q, x)
    result = result_type(x.dtype, float)
    x = _cast(x, result_type(x.dtype, "float32"))
    q = _cast(q, x.dtype)
    if axis is None:
        y, axes = x.reshape(-1), list(range(x.ndim))
    else:
        axes = [_canonical(a, x.ndim) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
        others = [d for d in range(x.ndim) if d not in axes]
        y = x.permute(others + axes).reshape([x.shape[d] for d in others] + [math.prod(x.shape[d] for d in axes)])
    y = fn(y, q, dim=-1, interpolation=method)
    if keepdims:
        for a in sorted(axes):
            y = y.unsqueeze(a + 1 if q.ndim > 0 else a)
    return _cast(y, result)


@keras_op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th quantiles (`0 <= q <= 1`) along `axis`, ignoring NaNs."""
    return _quantile_over_axes(x, q, axis, method, keepdims, torch.nanquantile)


@keras_op
def nanmedian(x, axis=None, keepdims=False):
    """Median along `axis`, ignoring NaNs."""
    if axis in _NO_AXES:
        return _t(x)
    return _quantile_over_axes(x, 0.5, axis, "linear", keepdims, torch.nanquantile)


def _percent(q, ref):
    return to_tensor(q, dtype=config.floatx(), device=ref.device) / 100.0


@keras_op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th percentiles (`0 <= q <= 100`) along `axis`."""
    x = _t(x)
    return quantile.eager(x, _percent(q, x), axis=axis, method=method, keepdims=keepdims)


@keras_op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The `q`-th percentiles (`0 <= q <= 100`) along `axis`, ignoring NaNs."""
    x = _t(x)
    return _quantile_over_axes(x, _percent(q, x), axis, method, keepdims, torch.nanquantile)


@keras_op
def ptp(x, axis=None, keepdims=False):
    """Range (maximum - minimum) along `axis`."""
    x = _t(x)
    if axis is None:
        return x.max() - x.min()
    if axis == ():
        return torch.zeros_like(x)
    return _amax(x, axis, keepdims) - _amin(x, axis, keepdims)


@keras_op
def corrcoef(x):
    """Pearson correlation coefficients of the rows (variables) of `x`."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(to_torch_dtype(config.floatx()))
    elif x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.corrcoef(x)


@keras_op
def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts (or sums `weights`) of each value of the non-negative integers `x`.

    A 2D `x` is counted row by row. The result has `max(x) + 1` entries (at least `minlength`).
    """
    if sparse:
        raise ValueError("Unsupported value `sparse=True`: keraslike tensors are dense.")
    x = _t(x)
    if weights is None:
        dtype = "int32"
    else:
        weights = like(weights, x)
        dtype = result_type(x.dtype, weights.dtype)
    if x.ndim == 2:
        length = max(int(x.max()) + 1 if x.numel() else 0, minlength)
        rows = x.shape[0]
        flat = (x + torch.arange(rows, device=x.device).unsqueeze(1) * length).reshape(-1)
        flat_weights = None if weights is None else weights.reshape(-1)
        counts = torch.bincount(flat, flat_weights, minlength=rows * length)
        return _cast(counts.reshape(rows, length), dtype)
    return _cast(torch.bincount(x, weights, minlength), dtype)


@keras_op
def histogram(x, bins=10, range=None):  # noqa: A002 - NumPy's argument name
    """Histogram of `x`: `(counts, bin_edges)` over `bins` equal-width bins of `range`."""
    x = _t(x)
    result = torch.histogram(x, bins=bins, range=range)
    return result.hist, result.bin_edges


@keras_op
def digitize(x, bins):
    """Indices (`int32`) of the bins each value of `x` falls in (`bins[i-1] <= x < bins[i]`)."""
    x = _t(x)
    bins = like(bins, x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return torch.bucketize(x, bins, right=True).to(torch.int32)


@keras_op
def searchsorted(sorted_sequence, values, side="left"):
    """Indices where `values` would be inserted into the 1D `sorted_sequence` to keep it sorted."""
    sorted_sequence = _t(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. You can use "
            "`keras.ops.vectorized_map` to extend it to N-D sequences. Received: "
            f"sorted_sequence.shape={tuple(sorted_sequence.shape)}"
        )
    values = like(values, sorted_sequence)
    out_int32 = sorted_sequence.shape[0] <= 2**31 - 1
    return torch.searchsorted(sorted_sequence, values, side=side, out_int32=out_int32)


@keras_op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of `y` along `axis` by the trapezoidal rule (sample points `x` or spacing `dx`)."""
    y = _t(y)
    if y.dtype == torch.bool:
        y = y.to(to_torch_dtype(config.floatx()))
    if x is not None:
        return torch.trapezoid(y, x=like(x, y), dim=axis)
    return torch.trapezoid(y, dx=dx, dim=axis)


@keras_op
def argpartition(x, kth, axis=-1):
    """Indices (`int32`) that partition `x` along `axis` around its `kth` smallest element.

    The first `kth + 1` indices point at the smallest values (in order); the rest at the others.
    """
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    moved = torch.movedim(x, axis, -1)
    smallest = torch.topk(-moved.to(torch.float64) if not moved.is_floating_point() else -moved, kth + 1)[1]
    rest_mask = torch.ones_like(moved, dtype=torch.bool).scatter(-1, smallest, False)
    # The remaining indices in their original order (a stable sort puts them after the smallest).
    rank = torch.where(rest_mask, torch.arange(moved.shape[-1], device=x.device), moved.shape[-1])
    rest = torch.argsort(rank, dim=-1, stable=True)[..., : moved.shape[-1] - kth - 1]
    return torch.movedim(torch.cat([smallest, rest], dim=-1), -1, axis).to(torch.int32)
