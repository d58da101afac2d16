"""NumPy-style products (`matmul`, `dot`, `einsum`, ...) and diagonal/triangle ops."""

import builtins

import torch

from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _both, _cast, _cpu_compute, _floatx, _promote, _result, _t
from keraslike.ops.numpy.reduction import _sum_dtype


# ----------------------------------------------------------------------------------------------
# Linear algebra products.


def _matmul_compute(x1, x2, fn, widen_int8=True):
    """`fn(x1, x2)` in Keras's result dtype (`float64`/`int64` give 32 bits; `int8 @ int8` gives
    `int32` when `widen_int8`). Integers are multiplied exactly on CPU, in `floatx()` on GPUs
    (which have no integer matmul); `float16` in `float32` on CPU, as Keras does."""
    if x1.dtype is x2.dtype and x1.dtype in (torch.float32, torch.bfloat16):  # the common case
        return fn(x1, x2)
    if widen_int8 and x1.dtype == torch.int8 and x2.dtype == torch.int8:  # accumulate in int32
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    dtype = _result(x1.dtype, x2.dtype)
    compute = _cpu_compute(dtype, x1.device)
    if dtype == torch.bool or (x1.device.type != "cpu" and not (dtype.is_floating_point or dtype.is_complex)):
        compute = _floatx()
    return _cast(fn(_cast(x1, compute), _cast(x2, compute)), dtype)


@keras_op
def matmul(x1, x2):
    """Matrix product with NumPy `matmul` broadcasting (`int8 @ int8` gives `int32`)."""
    x1, x2 = _both(x1, x2)
    return _matmul_compute(x1, x2, torch.matmul)


@keras_op
def dot(x1, x2):
    """Dot product: `matmul` for tensors, `multiply` when either is a scalar (as on Keras/torch)."""
    x1, x2 = _both(x1, x2)
    fn = torch.multiply if (x1.ndim == 0 or x2.ndim == 0) else torch.matmul
    return _matmul_compute(x1, x2, fn, widen_int8=False)


@keras_op
def tensordot(x1, x2, axes=2):
    """Sum of products over `axes` (an int, or a pair of axis lists)."""
    x1, x2 = _both(x1, x2)
    if isinstance(axes, (list, tuple)):
        first, second = axes
        first = tuple(first) if isinstance(first, (list, tuple)) else (first,)
        second = tuple(second) if isinstance(second, (list, tuple)) else (second,)
        axes = (first, second)
    return _matmul_compute(x1, x2, lambda a, b: torch.tensordot(a, b, dims=axes), widen_int8=False)


@keras_op
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation (`torch.einsum`); operands are promoted to a common dtype."""
    operands = [_t(o) for o in operands]
    if builtins.all(o.dtype == torch.int8 for o in operands):  # accumulate in int32
        return torch.einsum(subscripts, *[o.to(torch.int32) for o in operands])
    operands, _ = _promote(*operands)
    return torch.einsum(subscripts, *operands)


@keras_op
def outer(x1, x2):
    """Outer product of the flattened inputs (a Python scalar is an `int32`/`floatx()` tensor)."""
    (x1, x2), _ = _promote(*_both(x1, x2))
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


@keras_op
def inner(x1, x2):
    """Inner product over the last axes."""
    x1, x2 = _both(x1, x2)
    return _matmul_compute(x1, x2, torch.inner, widen_int8=False)


@keras_op
def vdot(x1, x2):
    """Dot product of the flattened inputs."""
    x1, x2 = _both(x1, x2)
    return _matmul_compute(x1.reshape(-1), x2.reshape(-1), torch.vdot, widen_int8=False)


@keras_op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the given axes (`axis` overrides all three)."""
    x1, x2 = _both(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = torch.movedim(x1, axisa, -1), torch.movedim(x2, axisb, -1)
    dtype = _result(x1.dtype, x2.dtype)  # Keras's: `int64`/`float64` give 32 bits
    compute = _cpu_compute(dtype, x1.device)
    out = torch.linalg.cross(_cast(x1, compute), _cast(x2, compute), dim=-1)
    return torch.movedim(_cast(out, dtype), -1, axisc)


@keras_op
def diag(x, k=0):
    """The `k`-th diagonal of a matrix, or a matrix with vector `x` on its `k`-th diagonal."""
    return torch.diag(_t(x), diagonal=k)


@keras_op
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The `offset` diagonal over `axis1`, `axis2` (appended as the last axis)."""
    return torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2)


@keras_op
def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal (booleans and small ints give `int32`)."""
    x = _t(x)
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=_sum_dtype(x.dtype))


@keras_op
def tril(x, k=0):
    """Lower triangle of the last two axes (entries above the `k`-th diagonal zeroed)."""
    return torch.tril(_t(x), diagonal=k)


@keras_op
def triu(x, k=0):
    """Upper triangle of the last two axes (entries below the `k`-th diagonal zeroed)."""
    return torch.triu(_t(x), diagonal=k)


