"""Elementwise NumPy-style ops: arithmetic, unary math, rounding and float checks."""

import torch

from keraslike.ops.core import like
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import (
    _Scalar,
    _both,
    _cast,
    _dtype_or_type,
    _float_result,
    _floatify,
    _floatx,
    _keeps_scalar,
    _operand,
    _pair,
    _promote,
    _result,
    _scalar_or_tensor,
    _t,
)


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
    if isinstance(x1, _Scalar) and isinstance(x2, torch.Tensor) and _keeps_scalar(x2, x1):
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
    """`x1 / x2` (true division: integers give floats; Python scalars promote weakly)."""
    x1, x2 = _operand(x1), _operand(x2)
    if not isinstance(x2, torch.Tensor) and not isinstance(x1, torch.Tensor):
        x1 = _t(x1)
    return torch.divide(x1, x2)


@keras_op
def true_divide(x1, x2):
    """Alias of `divide`."""
    return divide.eager(x1, x2)


@keras_op
def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 where `x2` is 0 (in Keras's float result dtype, `float32` for `float64`)."""
    x1, x2 = _operand(x1), _operand(x2)
    dtype = _result(_dtype_or_type(x1), _dtype_or_type(x2), float)
    x1, x2 = _pair(x1, x2)
    x1, x2 = _cast(x1, dtype), _cast(x2, dtype)
    zero = x2 == 0
    safe = torch.where(zero, torch.ones_like(x2), x2)
    return torch.where(zero, torch.zeros((), dtype=x1.dtype, device=x1.device), x1 / safe)


@keras_op
def floor_divide(x1, x2):
    """`x1 // x2`, element-wise, in Keras's result dtype (`int32` for `int64` inputs)."""
    x1, x2 = _operand(x1), _operand(x2)
    dtype = _result(_dtype_or_type(x1), _dtype_or_type(x2))
    x1, x2 = _scalar_or_tensor(x1, x2)
    return _cast(torch.floor_divide(x1, x2), dtype)


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
    if isinstance(x1, _Scalar) and isinstance(x2, torch.Tensor) and _keeps_scalar(x2, x1):
        return torch.pow(x1, x2)
    x1, x2 = _scalar_or_tensor(x1, x2)
    return torch.pow(x1, x2)


# Dtypes that are their own result with themselves and with weak Python scalars (not 64-bit ones,
# which Keras narrows to 32 bits).
_NATIVE = (torch.float32, torch.bfloat16, torch.float16, torch.int32)


def _extremum(x1, x2, torch_fn, clamp):
    if isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor) and x1.dtype is x2.dtype:
        if x1.dtype in _NATIVE:  # the common case: Keras's result dtype is the operands'
            return torch_fn(x1, x2)
    if isinstance(x1, _Scalar) and not isinstance(x2, _Scalar):
        x1, x2 = x2, x1
    if isinstance(x1, torch.Tensor) and (type(x2) is float or type(x2) is int):
        if x1.dtype.is_floating_point and x1.dtype is not torch.float64:  # keeps its dtype
            return clamp(x1, x2)
    x1, x2 = _operand(x1), _operand(x2)
    # Keras's result dtype: Python scalars weak, 64-bit narrowed to 32.
    dtype = _result(_dtype_or_type(x1), _dtype_or_type(x2))
    if isinstance(x1, torch.Tensor) and isinstance(x2, _Scalar) and not isinstance(x2, bool):
        x1 = _cast(x1, dtype)
        if dtype.is_floating_point or isinstance(x2, int):
            return clamp(x1, x2)
    x1, x2 = _both(x1, x2)
    return torch_fn(_cast(x1, dtype), _cast(x2, dtype))


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
    """Element-wise `atan2(x1, x2)` in radians, in Keras's float result dtype (`float32` for
    `float64` or integer inputs)."""
    x1, x2 = _both(x1, x2)
    dtype = _result(x1.dtype, x2.dtype, float)
    return torch.arctan2(_cast(x1, dtype), _cast(x2, dtype))


@keras_op
def floor(x):
    """Largest integer `<= x` (a float result: integers give `floatx()`, `float64` `float32`)."""
    x = _t(x)
    return torch.floor(_cast(x, _float_result(x.dtype)))


@keras_op
def ceil(x):
    """Smallest integer `>= x` (a float result: integers give `floatx()`, `float64` `float32`)."""
    x = _t(x)
    return torch.ceil(_cast(x, _float_result(x.dtype)))


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


