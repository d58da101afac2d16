"""NumPy-style ops (Keras 3's `keras.ops.numpy`) on torch tensors and symbolic tensors.

Arguments, defaults and result dtypes are Keras 3's on its torch backend: `mean`/`std`/`var`
of integers give `float32`; `sum`/`prod`/`cumsum` of `bool`/small ints give `int32`; `argmax`,
`argmin`, `argsort` and `count_nonzero` give `int32`; float functions of ints (`exp`, `sqrt`,
`floor`, ...) give `floatx()`. Python scalars mixed with tensors are weakly typed (`int32 + 1.5`
is `float32`, `float16 * 2` stays `float16`). Where Keras's torch backend departs from NumPy
(`sum(x, keepdims=True)` without an axis dropping the dims, `cross` picking the first axis of
size 3, `pad(mode="symmetric")` replicating), these follow NumPy. 64-bit inputs keep 64 bits.
"""

import builtins
import math

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.ops.core import first_device, like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op

_SMALL_INTS = (torch.bool, torch.uint8, torch.int8, torch.int16)
_Scalar = (bool, int, float)


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _floatx():
    return to_torch_dtype(config.floatx())


def _floatify(x):
    """Tensor `x`, cast to `floatx()` unless it is already floating (or complex)."""
    x = _t(x)
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return x.to(_floatx())


def _weak(value, ref):
    """A Python scalar as a 0-d tensor that torch promotes weakly (like Keras's weak types)."""
    if isinstance(value, _Scalar):
        return torch.full((), value, device=ref.device)
    return to_tensor(value, device=ref.device)


def _pair(x1, x2):
    """Both operands as tensors (Python scalars weakly typed, on the other operand's device)."""
    if isinstance(x1, torch.Tensor):
        return (x1, x2) if isinstance(x2, torch.Tensor) else (x1, _weak(x2, x1))
    if isinstance(x2, torch.Tensor):
        return _weak(x1, x2), x2
    x1 = to_tensor(x1)
    return x1, to_tensor(x2, device=x1.device)


def _scalar_or_tensor(x1, x2):
    """Operands for torch ops that take a Python scalar as second argument."""
    if isinstance(x1, torch.Tensor):
        if isinstance(x2, torch.Tensor) or isinstance(x2, _Scalar):
            return x1, x2
        return x1, to_tensor(x2, device=x1.device)
    if isinstance(x2, torch.Tensor):
        return _weak(x1, x2), x2
    x1 = to_tensor(x1)
    return x1, (x2 if isinstance(x2, _Scalar) else to_tensor(x2, device=x1.device))


def _promote(*tensors):
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors], dtype


def _dims(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _canonical(axis, ndim):
    return axis + ndim if axis < 0 else axis


# ----------------------------------------------------------------------------------------------
# Elementwise arithmetic.


@keras_op
def add(x1, x2):
    """`x1 + x2`, element-wise with broadcasting."""
    if not isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor):
        x1, x2 = x2, x1
    x1, x2 = _scalar_or_tensor(x1, x2)
    return torch.add(x1, x2)


@keras_op
def subtract(x1, x2):
    """`x1 - x2`, element-wise with broadcasting (booleans are cast to the other dtype)."""
    x1 = int(x1) if isinstance(x1, bool) else x1
    x2 = int(x2) if isinstance(x2, bool) else x2
    if isinstance(x1, _Scalar) and isinstance(x2, torch.Tensor):
        if x2.dtype == torch.bool:
            x2 = x2.to(_floatx() if isinstance(x1, float) else torch.int32)
        return torch.rsub(x2, x1)
    x1, x2 = _scalar_or_tensor(x1, x2)
    if isinstance(x2, torch.Tensor):
        if x1.dtype == torch.bool and x2.dtype != torch.bool:
            x1 = x1.to(x2.dtype)
        elif x2.dtype == torch.bool and x1.dtype != torch.bool:
            x2 = x2.to(x1.dtype)
    elif x1.dtype == torch.bool and not isinstance(x2, bool):
        x1 = x1.to(_floatx() if isinstance(x2, float) else torch.int32)
    return torch.subtract(x1, x2)


@keras_op
def multiply(x1, x2):
    """`x1 * x2`, element-wise with broadcasting."""
    if not isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor):
        x1, x2 = x2, x1
    x1, x2 = _scalar_or_tensor(x1, x2)
    return torch.multiply(x1, x2)


@keras_op
def divide(x1, x2):
    """`x1 / x2` (true division: integers give floats)."""
    x1, x2 = _scalar_or_tensor(x1, x2)
    return torch.divide(x1, x2)


@keras_op
def true_divide(x1, x2):
    """Alias of `divide`."""
    return divide.eager(x1, x2)


@keras_op
def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 where `x2` is 0."""
    x1, x2 = _pair(x1, x2)
    x1, x2 = _floatify(x1), _floatify(x2)
    (x1, x2), _ = _promote(x1, x2)
    zero = x2 == 0
    safe = torch.where(zero, torch.ones_like(x2), x2)
    return torch.where(zero, torch.zeros((), dtype=x1.dtype, device=x1.device), x1 / safe)


@keras_op
def floor_divide(x1, x2):
    """`x1 // x2`, element-wise."""
    x1, x2 = _scalar_or_tensor(x1, x2)
    return torch.floor_divide(x1, x2)


@keras_op
def mod(x1, x2):
    """`x1 % x2` with the sign of `x2` (Python/NumPy remainder)."""
    x1, x2 = _scalar_or_tensor(x1, x2)
    if x1.dtype == torch.bool and (not isinstance(x2, torch.Tensor) or x2.dtype == torch.bool):
        x1 = x1.to(torch.int32)
        x2 = x2.to(torch.int32) if isinstance(x2, torch.Tensor) else x2
    return torch.remainder(x1, x2)


@keras_op
def power(x1, x2):
    """`x1 ** x2`, element-wise."""
    if isinstance(x1, _Scalar) and isinstance(x2, torch.Tensor):
        return torch.pow(x1, x2)
    x1, x2 = _scalar_or_tensor(x1, x2)
    return torch.pow(x1, x2)


def _extremum(x1, x2, torch_fn, clamp):
    if isinstance(x1, _Scalar) and isinstance(x2, torch.Tensor):
        x1, x2 = x2, x1
    if isinstance(x1, torch.Tensor) and isinstance(x2, _Scalar) and not isinstance(x2, bool):
        if x1.dtype.is_floating_point or (isinstance(x2, int) and x1.dtype != torch.bool):
            return clamp(x1, x2)
    x1, x2 = _pair(x1, x2)
    return torch_fn(x1, x2)


@keras_op
def maximum(x1, x2):
    """Element-wise maximum (NaN propagates)."""
    return _extremum(x1, x2, torch.maximum, torch.clamp_min)


@keras_op
def minimum(x1, x2):
    """Element-wise minimum (NaN propagates)."""
    return _extremum(x1, x2, torch.minimum, torch.clamp_max)


@keras_op
def negative(x):
    """`-x`."""
    return torch.negative(_t(x))


@keras_op
def absolute(x):
    """`|x|` (booleans are returned unchanged)."""
    x = _t(x)
    return x if x.dtype == torch.bool else torch.abs(x)


@keras_op(name="abs")
def abs(x):
    """`|x|`; alias of `absolute`."""
    return absolute.eager(x)


@keras_op
def sign(x):
    """-1, 0 or 1 by the sign of `x`."""
    return torch.sign(_t(x))


@keras_op
def square(x):
    """`x * x` (booleans give `int32`)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.square(x)


@keras_op
def reciprocal(x):
    """`1 / x`."""
    return torch.reciprocal(_t(x))


def _float_unary(torch_fn, name):
    @keras_op(name=name)
    def op(x):
        return torch_fn(_floatify(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise `{name}` (integers are computed in `floatx()`)."
    op.eager.__name__ = name
    return op


sqrt = _float_unary(torch.sqrt, "sqrt")
exp = _float_unary(torch.exp, "exp")
exp2 = _float_unary(torch.exp2, "exp2")
expm1 = _float_unary(torch.expm1, "expm1")
log = _float_unary(torch.log, "log")
log1p = _float_unary(torch.log1p, "log1p")
log2 = _float_unary(torch.log2, "log2")
log10 = _float_unary(torch.log10, "log10")
sin = _float_unary(torch.sin, "sin")
cos = _float_unary(torch.cos, "cos")
tan = _float_unary(torch.tan, "tan")
arcsin = _float_unary(torch.arcsin, "arcsin")
arccos = _float_unary(torch.arccos, "arccos")
arctan = _float_unary(torch.arctan, "arctan")
sinh = _float_unary(torch.sinh, "sinh")
cosh = _float_unary(torch.cosh, "cosh")
tanh = _float_unary(torch.tanh, "tanh")
arcsinh = _float_unary(torch.arcsinh, "arcsinh")
arccosh = _float_unary(torch.arccosh, "arccosh")
arctanh = _float_unary(torch.arctanh, "arctanh")


@keras_op
def arctan2(x1, x2):
    """Element-wise `atan2(x1, x2)` in radians."""
    (x1, x2), _ = _promote(*_pair(x1, x2))
    return torch.arctan2(_floatify(x1), _floatify(x2))


@keras_op
def floor(x):
    """Largest integer `<= x` (a float result; integers give `floatx()`)."""
    return torch.floor(_floatify(x))


@keras_op
def ceil(x):
    """Smallest integer `>= x` (a float result; integers give `floatx()`)."""
    return torch.ceil(_floatify(x))


@keras_op
def trunc(x):
    """Rounds toward zero."""
    x = _t(x)
    return x if x.dtype == torch.bool else torch.trunc(x)


@keras_op(name="round")
def round(x, decimals=0):
    """Rounds half to even to `decimals` places; integer inputs keep their dtype."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return torch.round(x.to(_floatx()), decimals=decimals).to(x.dtype)
    return torch.round(x, decimals=decimals)


@keras_op
def clip(x, x_min, x_max):
    """Clamps `x` to `[x_min, x_max]` (booleans give `int32`)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if x_min is not None and not isinstance(x_min, (torch.Tensor, int, float)):
        x_min = like(x_min, x)
    if x_max is not None and not isinstance(x_max, (torch.Tensor, int, float)):
        x_max = like(x_max, x)
    return torch.clamp(x, x_min, x_max)


@keras_op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN by `nan` and infinities by `posinf`/`neginf` (default: the dtype's extremes)."""
    return torch.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


@keras_op
def isnan(x):
    """Element-wise NaN test."""
    return torch.isnan(_t(x))


@keras_op
def isinf(x):
    """Element-wise infinity test."""
    return torch.isinf(_t(x))


@keras_op
def isfinite(x):
    """Element-wise finiteness test."""
    return torch.isfinite(_t(x))


@keras_op
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Element-wise `|x1 - x2| <= atol + rtol * |x2|`."""
    (x1, x2), dtype = _promote(*_pair(x1, x2))
    if dtype.is_floating_point:
        return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(x1, x2)


# ----------------------------------------------------------------------------------------------
# Comparisons and logic.


def _compare(torch_fn, reflected_fn, name):
    @keras_op(name=name)
    def op(x1, x2):
        if isinstance(x1, torch.Tensor):
            if not isinstance(x2, (torch.Tensor, int, float, bool)):
                x2 = like(x2, x1)
            return torch_fn(x1, x2)
        if isinstance(x2, torch.Tensor):
            if isinstance(x1, _Scalar):
                return reflected_fn(x2, x1)
            return torch_fn(like(x1, x2), x2)
        x1 = to_tensor(x1)
        return torch_fn(x1, to_tensor(x2, device=x1.device))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise `{name}` comparison, with broadcasting; returns booleans."
    return op


equal = _compare(torch.eq, torch.eq, "equal")
not_equal = _compare(torch.ne, torch.ne, "not_equal")
less = _compare(torch.lt, torch.gt, "less")
less_equal = _compare(torch.le, torch.ge, "less_equal")
greater = _compare(torch.gt, torch.lt, "greater")
greater_equal = _compare(torch.ge, torch.le, "greater_equal")


@keras_op
def logical_and(x1, x2):
    """Element-wise logical AND."""
    return torch.logical_and(*_pair(x1, x2))


@keras_op
def logical_or(x1, x2):
    """Element-wise logical OR."""
    return torch.logical_or(*_pair(x1, x2))


@keras_op
def logical_xor(x1, x2):
    """Element-wise logical XOR."""
    return torch.logical_xor(*_pair(x1, x2))


@keras_op
def logical_not(x):
    """Element-wise logical NOT."""
    return torch.logical_not(_t(x))


@keras_op
def where(condition, x1=None, x2=None):
    """`x1` where `condition` else `x2`; with only `condition`, the indices of its true entries.

    With one argument it returns a `(ndim, n)` tensor of indices (needs a host sync).
    """
    condition = _t(condition)
    if condition.dtype != torch.bool:
        condition = condition.to(torch.bool)
    if x1 is None and x2 is None:
        return torch.stack(torch.where(condition), dim=0)
    if x1 is None or x2 is None:
        raise ValueError("`x1` and `x2` must be both given or both omitted.")
    if not isinstance(x1, (torch.Tensor,) + _Scalar):
        x1 = like(x1, condition)
    if not isinstance(x2, (torch.Tensor,) + _Scalar):
        x2 = like(x2, condition)
    if not isinstance(x1, torch.Tensor) and not isinstance(x2, torch.Tensor):
        x1 = to_tensor(x1, device=condition.device)
    return torch.where(condition, x1, x2)


# ----------------------------------------------------------------------------------------------
# Linear algebra products.


def _matmul_compute(x1, x2, fn, widen_int8=True):
    if widen_int8 and x1.dtype == torch.int8 and x2.dtype == torch.int8:  # accumulate in int32
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    (x1, x2), dtype = _promote(x1, x2)
    if dtype.is_floating_point or dtype.is_complex:
        return fn(x1, x2)
    compute = _floatx() if (dtype == torch.bool or x1.device.type != "cpu") else dtype
    return fn(x1.to(compute), x2.to(compute)).to(dtype)


@keras_op
def matmul(x1, x2):
    """Matrix product with NumPy `matmul` broadcasting (`int8 @ int8` gives `int32`)."""
    x1, x2 = _pair(x1, x2)
    return _matmul_compute(x1, x2, torch.matmul)


@keras_op
def dot(x1, x2):
    """Dot product: `matmul` for tensors, `multiply` when either is a scalar (as on Keras/torch)."""
    x1, x2 = _pair(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return torch.multiply(x1, x2)
    return _matmul_compute(x1, x2, torch.matmul, widen_int8=False)


@keras_op
def tensordot(x1, x2, axes=2):
    """Sum of products over `axes` (an int, or a pair of axis lists)."""
    x1, x2 = _pair(x1, x2)
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
    """Outer product of the flattened inputs."""
    (x1, x2), _ = _promote(*_pair(x1, x2))
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


@keras_op
def inner(x1, x2):
    """Inner product over the last axes."""
    x1, x2 = _pair(x1, x2)
    return _matmul_compute(x1, x2, torch.inner, widen_int8=False)


@keras_op
def vdot(x1, x2):
    """Dot product of the flattened inputs."""
    x1, x2 = _pair(x1, x2)
    return _matmul_compute(x1.reshape(-1), x2.reshape(-1), torch.vdot, widen_int8=False)


@keras_op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the given axes (`axis` overrides all three)."""
    x1, x2 = _pair(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    (x1, x2), _ = _promote(torch.movedim(x1, axisa, -1), torch.movedim(x2, axisb, -1))
    out = torch.linalg.cross(x1, x2, dim=-1)
    return torch.movedim(out, -1, axisc)


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
    """Arithmetic mean over `axis`; integer and boolean inputs give `float32`."""
    x = _t(x)
    if axis == () or axis == []:
        return x
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(torch.float32)
    if axis is None and not keepdims:
        return torch.mean(x)
    return torch.mean(x, dim=_dims(axis), keepdim=keepdims)


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
    """Product over `axis`; booleans and small ints give `int32` unless `dtype` is given."""
    x = _t(x)
    if dtype is None:
        dtype = torch.int32 if x.dtype in _SMALL_INTS else x.dtype
    else:
        dtype = to_torch_dtype(dtype)
    if axis is None:
        out = torch.prod(x, dtype=dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    axes = sorted((_canonical(a, x.ndim) for a in axes), reverse=True)
    for a in axes:
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=dtype)
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
    """Population variance over `axis`; integer inputs give `float32`."""
    return _moment(x, axis, keepdims, torch.var)


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
    if dtype is None:
        dtype = torch.int32 if x.dtype == torch.bool else x.dtype
    else:
        dtype = to_torch_dtype(dtype)
    return fn(x, dim=axis, dtype=dtype)


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
    """Weighted mean along `axis` (a 1-D `weights` of the axis' length, or one of `x`'s shape)."""
    x = _floatify(x)
    if weights is None:
        return mean.eager(x, axis=axis)
    weights = _floatify(like(weights, x))
    (x, weights), _ = _promote(x, weights)
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[_canonical(axis, x.ndim)] = -1
        weights = weights.reshape(shape)
    weights = torch.broadcast_to(weights, x.shape)
    return torch.sum(x * weights, dim=axis) / torch.sum(weights, dim=axis)


def _quantile(x, q, axis, method, keepdims):
    x = _t(x)
    result_dtype = x.dtype if x.dtype.is_floating_point else _floatx()
    x = x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)
    q = like(q, x).to(x.dtype)
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


# ----------------------------------------------------------------------------------------------
# Shapes and rearrangement.


@keras_op
def reshape(x, newshape):
    """Reshapes `x` (`-1` infers one dimension; one `None` is taken as `-1`)."""
    if not isinstance(newshape, (list, tuple)):
        newshape = (newshape,)
    newshape = tuple(-1 if d is None else d for d in newshape)
    return torch.reshape(_t(x), newshape)


@keras_op
def transpose(x, axes=None):
    """Permutes the axes (reverses them when `axes` is `None`)."""
    x = _t(x)
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return x.permute(tuple(axes))


@keras_op
def moveaxis(x, source, destination):
    """Moves axes `source` to positions `destination`."""
    return torch.movedim(_t(x), source, destination)


@keras_op
def swapaxes(x, axis1, axis2):
    """Swaps two axes."""
    return torch.swapaxes(_t(x), axis1, axis2)


@keras_op
def expand_dims(x, axis):
    """Inserts length-1 axes at `axis` (an int or a tuple of ints)."""
    x = _t(x)
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    out_ndim = x.ndim + len(axes)
    for a in sorted(_canonical(a, out_ndim) for a in axes):
        x = torch.unsqueeze(x, a)
    return x


@keras_op
def squeeze(x, axis=None):
    """Removes length-1 axes (only those in `axis` when given)."""
    x = _t(x)
    if axis is None:
        return torch.squeeze(x)
    return torch.squeeze(x, dim=_dims(axis))


@keras_op
def ravel(x):
    """Flattens to 1-D."""
    return torch.reshape(_t(x), (-1,))


@keras_op
def broadcast_to(x, shape):
    """Broadcasts `x` to `shape` (a view)."""
    return torch.broadcast_to(_t(x), tuple(shape))


def _tensor_list(xs):
    device = first_device(*xs)
    return [x if isinstance(x, torch.Tensor) else to_tensor(x, device=device) for x in xs]


@keras_op
def concatenate(xs, axis=0):
    """Joins tensors along an existing `axis` (flattened first when `axis` is `None`)."""
    xs = _tensor_list(xs)
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


@keras_op
def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (both flattened when `None`)."""
    return concatenate.eager([x1, x2], axis=axis)


@keras_op
def stack(x, axis=0):
    """Joins tensors along a new `axis`."""
    return torch.stack(_tensor_list(x), dim=axis)


@keras_op
def hstack(xs):
    """Stacks horizontally (along axis 1, or 0 for 1-D inputs)."""
    return torch.hstack(_tensor_list(xs))


@keras_op
def vstack(xs):
    """Stacks vertically (along axis 0, 1-D inputs as rows)."""
    return torch.vstack(_tensor_list(xs))


@keras_op
def split(x, indices_or_sections, axis=0):
    """Splits into equal sections (an int that must divide the axis) or at indices; a list."""
    x = _t(x)
    if isinstance(indices_or_sections, int):
        size = x.shape[axis]
        if size % indices_or_sections != 0:
            raise ValueError(
                f"Received indices_or_sections={indices_or_sections} (interpreted as a number "
                f"of sections) and axis={axis}, but x.shape[{axis}]={size} is not divisible by it. "
                f"Full input shape: x.shape={tuple(x.shape)}"
            )
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    if isinstance(indices_or_sections, torch.Tensor):
        indices_or_sections = indices_or_sections.tolist()
    return list(torch.tensor_split(x, list(indices_or_sections), dim=axis))


@keras_op
def array_split(x, indices_or_sections, axis=0):
    """Splits into `indices_or_sections` nearly equal sections (or at indices); a list."""
    return list(torch.tensor_split(_t(x), indices_or_sections, dim=axis))


@keras_op
def tile(x, repeats):
    """Repeats the whole tensor `repeats` times along each axis."""
    if isinstance(repeats, torch.Tensor):
        repeats = tuple(repeats.tolist())
    if isinstance(repeats, int):
        repeats = (repeats,)
    return torch.tile(_t(x), tuple(repeats))


@keras_op
def repeat(x, repeats, axis=None):
    """Repeats each element `repeats` times along `axis` (of the flattened tensor when `None`)."""
    x = _t(x)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if isinstance(repeats, (list, tuple)):
        if len(repeats) == 1:
            repeats = repeats[0]
        else:
            total = builtins.sum(repeats)
            repeats = torch.tensor(repeats, device=x.device)
            return torch.repeat_interleave(x, repeats, dim=axis, output_size=total)
    return torch.repeat_interleave(x, repeats, dim=axis)


@keras_op
def flip(x, axis=None):
    """Reverses the order of elements along `axis` (all axes when `None`)."""
    x = _t(x)
    if axis is None:
        axis = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axis = (axis,)
    return torch.flip(x, dims=tuple(axis))


@keras_op
def roll(x, shift, axis=None):
    """Rolls elements by `shift` along `axis` (of the flattened tensor when `None`)."""
    return torch.roll(_t(x), shift, dims=axis)


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


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in `[start, stop)`; Python ints give `int32`, floats `floatx()`."""
    dtype = to_torch_dtype(dtype) if dtype is not None else _number_dtype(start, stop, step)
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
    dtype = to_torch_dtype(dtype) if dtype is not None else _number_dtype(start, stop, 0.0)
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


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the `k`-th diagonal and zeros elsewhere."""
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
