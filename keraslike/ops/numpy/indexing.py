"""NumPy-style sorting, gathering and padding: `sort`, `take`, `pad`, `nonzero`, `unique`."""

import torch
import torch.nn.functional as F

from keraslike.ops.core import like
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _canonical, _t
from keraslike.ops.numpy.shape import _tensor_list


@keras_op
def sort(x, axis=-1):
    """Sorted values along `axis` (of the flattened tensor when `None`)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis).values


@keras_op
def argsort(x, axis=-1):
    """Indices (`int32`) that sort `x` along `axis` (stable)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        x, axis = x.reshape(-1), -1
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def _wrap_indices(indices, size):
    return torch.where(indices < 0, indices + size, indices)


@keras_op
def take(x, indices, axis=None):
    """Elements of `x` at `indices` along `axis` (of the flattened tensor when `None`).

    Negative indices count from the end. The result's shape is
    `x.shape[:axis] + indices.shape + x.shape[axis + 1:]`.
    """
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _canonical(axis, x.ndim)
    indices = like(indices, x)
    if indices.dtype != torch.long:
        indices = indices.long()
    indices = _wrap_indices(indices, x.shape[axis])
    if x.ndim == 2 and axis == 0:
        return F.embedding(indices, x)
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(indices.shape) + tuple(x.shape[axis + 1 :]))


@keras_op
def take_along_axis(x, indices, axis=None):
    """Picks values of `x` at `indices` along `axis` (indices broadcast against `x`)."""
    x = _t(x)
    indices = like(indices, x).long()
    if axis is None:
        x = x.reshape(-1)
        indices = indices.reshape(-1)
        axis = 0
    indices = _wrap_indices(indices, x.shape[axis])
    return torch.take_along_dim(x, indices, dim=axis)


def _normalize_pad_width(pad_width, ndim):
    if isinstance(pad_width, int):
        pad_width = ((pad_width, pad_width),)
    elif isinstance(pad_width[0], int):
        pad_width = (tuple(pad_width),)
    pad_width = [
        (int(p[0]), int(p[0])) if len(p) == 1 else (int(p[0]), int(p[1])) for p in pad_width
    ]
    if len(pad_width) == 1:
        pad_width = pad_width * ndim
    if len(pad_width) != ndim:
        raise ValueError(
            "`pad_width` must have the same length as `x.shape`. "
            f"Received: pad_width={pad_width} (of length {len(pad_width)}) and "
            f"x.ndim={ndim}"
        )
    return pad_width


def _pad_indices(n, before, after, mode, device):
    idx = torch.arange(-before, n + after, device=device)
    if mode == "edge":
        return idx.clamp(0, n - 1)
    if mode == "wrap":
        return torch.remainder(idx, n)
    if mode == "reflect":
        if n == 1:
            return torch.zeros_like(idx)
        period = 2 * (n - 1)
        m = torch.remainder(idx, period)
        return torch.where(m >= n, period - m, m)
    period = 2 * n  # symmetric
    m = torch.remainder(idx, period)
    return torch.where(m >= n, period - 1 - m, m)


@keras_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x` with NumPy semantics.

    Args:
        x: Input tensor.
        pad_width: `((before, after), ...)` per axis, one pair for all axes, or an int.
        mode: `"constant"`, `"edge"`, `"reflect"`, `"symmetric"` or `"wrap"`.
        constant_values: The fill value for `"constant"` (default 0).
    """
    x = _t(x)
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "Argument `constant_values` can only be provided when `mode == 'constant'`. "
            f"Received: mode={mode}"
        )
    pad_width = _normalize_pad_width(pad_width, x.ndim)
    if mode == "constant":
        flat = []
        for before, after in reversed(pad_width):
            flat += [before, after]
        while flat and flat[-1] == 0 and flat[-2] == 0:
            flat = flat[:-2]
        if not flat:
            return x
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(f"Unsupported padding mode: {mode!r}")
    for axis, (before, after) in enumerate(pad_width):
        if before or after:
            index = _pad_indices(x.shape[axis], before, after, mode, x.device)
            x = torch.index_select(x, axis, index)
    return x


@keras_op
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D coordinate vectors (`"xy"` Cartesian or `"ij"` matrix indexing)."""
    return torch.meshgrid(*_tensor_list(x), indexing=indexing)


@keras_op
def nonzero(x):
    """Indices of the non-zero entries as an `int32` `(ndim, n)` tensor (needs a host sync)."""
    return torch.nonzero(_t(x)).T.to(torch.int32)


@keras_op
def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """Unique values (along `axis`), optionally with first indices, inverse and counts.

    With `size`, the result is cut or padded (with `fill_value`, default 0) to that length, as JAX
    does to keep shapes static. The number of unique values needs a host sync.
    """
    x = _t(x)
    values, inverse, counts = torch.unique(
        x, sorted=sorted, return_inverse=True, return_counts=True, dim=axis
    )
    dim = 0 if axis is None else _canonical(axis, x.ndim)
    if axis is None:
        flat_inverse = inverse.reshape(-1)
    else:
        flat_inverse = inverse
    first = None
    if return_index:
        positions = torch.arange(flat_inverse.shape[0], device=x.device)
        first = torch.full((values.shape[dim],), flat_inverse.shape[0], device=x.device)
        first = first.scatter_reduce(0, flat_inverse, positions, reduce="amin")
    if size is not None:
        count = values.shape[dim]
        if count >= size:
            values = values.narrow(dim, 0, size)
            counts = counts[:size]
            first = first[:size] if first is not None else None
        else:
            extra = size - count
            pad_shape = list(values.shape)
            pad_shape[dim] = extra
            fill = torch.full(
                pad_shape, 0 if fill_value is None else fill_value, dtype=values.dtype,
                device=x.device,
            )
            values = torch.cat([values, fill], dim=dim)
            counts = F.pad(counts, (0, extra))
            if first is not None:
                first = F.pad(first, (0, extra))
    outputs = [values]
    if return_index:
        outputs.append(first)
    if return_inverse:
        outputs.append(inverse)
    if return_counts:
        outputs.append(counts)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


