"""NumPy-style array creation (`zeros`, `full`, `arange`, `eye`, ...) and shape queries."""

import builtins
import math

import torch

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.ops.core import first_device, like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _Scalar, _floatx, _result, _t


# ----------------------------------------------------------------------------------------------
# Creation.


def _default_device():
    getter = getattr(torch, "get_default_device", None)
    return getter() if getter is not None else None


def _shape_tuple(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def zeros(shape, dtype=None):
    """A tensor of zeros (`floatx()` by default)."""
    return torch.zeros(_shape_tuple(shape), dtype=to_torch_dtype(dtype))


def ones(shape, dtype=None):
    """A tensor of ones (`floatx()` by default)."""
    return torch.ones(_shape_tuple(shape), dtype=to_torch_dtype(dtype))


def empty(shape, dtype=None):
    """An uninitialized tensor (`floatx()` by default)."""
    return torch.empty(_shape_tuple(shape), dtype=to_torch_dtype(dtype))


def _dtype_of(x, dtype):
    return to_torch_dtype(dtype) if dtype is not None else None


@keras_op
def zeros_like(x, dtype=None):
    """Zeros with the shape (and, by default, dtype and device) of `x`."""
    return torch.zeros_like(_t(x), dtype=_dtype_of(x, dtype))


@keras_op
def ones_like(x, dtype=None):
    """Ones with the shape (and, by default, dtype and device) of `x`."""
    return torch.ones_like(_t(x), dtype=_dtype_of(x, dtype))


@keras_op
def full(shape, fill_value, dtype=None):
    """A tensor of `shape` filled with `fill_value` (`floatx()` unless `dtype` is given).

    A non-scalar `fill_value` is broadcast over the leading dimensions.
    """
    dtype = to_torch_dtype(dtype)
    shape = _shape_tuple(shape)
    if isinstance(fill_value, _Scalar):
        return torch.full(shape, fill_value, dtype=dtype)
    fill_value = to_tensor(fill_value, dtype=dtype)
    return torch.broadcast_to(fill_value, shape).clone()


@keras_op
def full_like(x, fill_value, dtype=None):
    """`fill_value` with the shape (and, by default, dtype and device) of `x`."""
    x = _t(x)
    dtype = _dtype_of(x, dtype) or x.dtype
    if isinstance(fill_value, _Scalar):
        return torch.full_like(x, fill_value, dtype=dtype)
    fill_value = like(fill_value, x).to(dtype)
    return torch.broadcast_to(fill_value, x.shape).clone()


def _number_dtype(*values):
    floats = False
    for v in values:
        if isinstance(v, torch.Tensor):
            if v.dtype.is_floating_point:
                return v.dtype
        elif isinstance(v, float):
            floats = True
    return _floatx() if floats else torch.int32


def _endpoint_dtype(value):
    if isinstance(value, _Scalar):
        return type(value)
    if isinstance(value, torch.Tensor) or hasattr(value, "dtype"):  # a tensor, a NumPy array
        return value.dtype
    return to_tensor(value).dtype


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in `[start, stop)`; Python ints give `int32`, floats `floatx()`, tensors
    Keras's `result_type` of the arguments (`float64` gives `float32`)."""
    if dtype is not None:
        dtype = to_torch_dtype(dtype)
    elif all(v is None or isinstance(v, _Scalar) for v in (start, stop, step)):
        dtype = _number_dtype(start, stop, step)
    else:
        dtype = _result(*(_endpoint_dtype(v) for v in (start, stop, step) if v is not None))
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    return torch.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` (inclusive when `endpoint`).

    `start` and `stop` may be arrays: the values run along a new `axis`. With `retstep`, returns
    `(values, step)`.
    """
    if dtype is None:  # Keras's `result_type(start, stop, float)`: float16 endpoints stay float16
        dtype = _result(_endpoint_dtype(start), _endpoint_dtype(stop), float)
    dtype = to_torch_dtype(dtype)
    div = (num - 1) if endpoint else num
    if isinstance(start, _Scalar) and isinstance(stop, _Scalar):
        step = (stop - start) / div if div > 0 else float("nan")
        end = stop if endpoint else stop - (stop - start) / builtins.max(num, 1)
        values = torch.linspace(start, end, num, dtype=dtype)
        return (values, step) if retstep else values
    device = first_device(start, stop)
    start = to_tensor(start, device=device).to(dtype)
    stop = to_tensor(stop, device=device).to(dtype)
    step = (stop - start) / div if div > 0 else torch.full_like(start, float("nan"))
    fractions = torch.arange(num, dtype=dtype, device=start.device)
    fractions = fractions.reshape((num,) + (1,) * builtins.max(start.ndim, stop.ndim))
    values = start[None] + fractions * step[None] if div > 0 else start[None] + 0 * fractions
    if endpoint and num > 1:
        values = torch.cat([values[:-1], torch.broadcast_to(stop, values.shape[1:])[None]])
    if axis != 0:
        values = torch.movedim(values, 0, axis)
    return (values, step) if retstep else values


def _size(value):
    """A NumPy integer or 0-d integer array (as Keras accepts for sizes) as a Python int."""
    if hasattr(value, "__index__") and not isinstance(value, (int, torch.Tensor)):
        return value.__index__()
    return value


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the `k`-th diagonal and zeros elsewhere."""
    N, M, k = _size(N), _size(M), _size(k)
    M = N if M is None else M
    k = 0 if k is None else k
    rows = torch.arange(N).unsqueeze(1)
    cols = torch.arange(M).unsqueeze(0)
    return (cols - rows == k).to(to_torch_dtype(dtype))


def identity(n, dtype=None):
    """The `n x n` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the `k`-th diagonal of an `N x M` matrix."""
    M = N if M is None else M
    return torch.tril(torch.ones((N, M), dtype=to_torch_dtype(dtype)), diagonal=k)


# ----------------------------------------------------------------------------------------------
# Shape queries.


def ndim(x):
    """Number of dimensions of `x` (a Python int, for tensors and symbolic tensors)."""
    if isinstance(x, (torch.Tensor, KerasTensor)):
        return x.ndim
    return to_tensor(x).ndim


@keras_op
def size(x):
    """Number of elements of `x`, as a 0-d integer tensor."""
    x = _t(x)
    return torch.full((), math.prod(x.shape), dtype=torch.int64, device=x.device)


@keras_op
def copy(x):
    """A copy of `x`."""
    return torch.clone(_t(x))


@keras_op
def array(x, dtype=None):
    """Converts `x` to a tensor (as `convert_to_tensor`)."""
    return to_tensor(x, dtype=dtype)


@keras_op
def diff(a, n=1, axis=-1):
    """`n`-th discrete difference along `axis`."""
    return torch.diff(_t(a), n=n, dim=axis)
