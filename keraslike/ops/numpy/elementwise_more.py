"""More element-wise NumPy-style ops: complex parts, float utilities, gcd/lcm, comparisons.

Result dtypes follow Keras 3 on torch (`keras.backend.result_type`, with integer inputs of float
functions becoming `floatx()`, and `int64` ones `float64` where Keras keeps the precision).
"""

import torch

from keraslike.backend import config
from keraslike.backend.dtypes import result_type, standardize_dtype
from keraslike.ops.core import to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _both, _cast, _dtype_or_type, _operand, _result, _t

_SMALL_OR_32_INTS = ("int8", "int16", "int32", "uint8", "uint16", "uint32")


def _name(x):
    return standardize_dtype(x.dtype)


def _float_pair(x1, x2):
    """Operands cast to their common float dtype (ints -> floatx, int64 -> float64)."""
    x1, x2 = _both(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype)
    if dtype in _SMALL_OR_32_INTS:
        dtype = config.floatx()
    elif dtype == "int64":
        dtype = "float64"
    return _cast(x1, dtype), _cast(x2, dtype)


@keras_op
def angle(x):
    """The counterclockwise angle of complex `x` (0 or pi for real values)."""
    return torch.angle(_t(x))


@keras_op
def real(x):
    """The real part of `x`."""
    return torch.real(_t(x))


@keras_op
def imag(x):
    """The imaginary part of complex `x`."""
    return torch.imag(_t(x))


@keras_op
def conjugate(x):
    """The complex conjugate of `x`, element-wise."""
    return torch.conj(_t(x)).resolve_conj()


@keras_op
def conj(x):
    """Alias of `conjugate`."""
    return torch.conj(_t(x)).resolve_conj()


@keras_op
def isreal(x):
    """Whether each element of `x` has a zero imaginary part."""
    return torch.isreal(_t(x))


@keras_op
def cbrt(x):
    """The cube root of `x`, element-wise (negative values give negative roots)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    elif x.dtype == torch.int64:
        x = x.to(torch.float64)
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


@keras_op
def deg2rad(x):
    """Converts angles from degrees to radians."""
    x = _t(x)
    if x.dtype == torch.int64:
        return torch.deg2rad(x).to(torch.float64)
    return torch.deg2rad(x)


@keras_op
def rad2deg(x):
    """Converts angles from radians to degrees."""
    x = _t(x)
    if x.dtype == torch.int64:
        return torch.rad2deg(x).to(torch.float64)
    return torch.rad2deg(x)


@keras_op
def fabs(x):
    """Absolute values as floats (integers and booleans become `floatx()`)."""
    x = _t(x)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(to_torch_dtype(config.floatx()))
    return torch.abs(x)


def _scalar_aware(x1, x2):
    """Operands in Keras's result dtype, Python scalars promoting weakly (NumPy arrays convert)."""
    x1, x2 = _operand(x1), _operand(x2)
    dtype = _result(_dtype_or_type(x1), _dtype_or_type(x2))
    x1, x2 = _both(x1, x2)
    return _cast(x1, dtype), _cast(x2, dtype)


@keras_op
def fmax(x1, x2):
    """Element-wise maximum that ignores NaNs (the other value wins)."""
    return torch.fmax(*_scalar_aware(x1, x2))


@keras_op
def fmin(x1, x2):
    """Element-wise minimum that ignores NaNs (the other value wins)."""
    return torch.fmin(*_scalar_aware(x1, x2))


@keras_op
def fmod(x1, x2):
    """The element-wise remainder of division, with the sign of the dividend (C's `fmod`)."""
    x1, x2 = _both(x1, x2)
    if result_type(x1.dtype, x2.dtype) == "bool":
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return torch.fmod(x1, x2)


@keras_op
def gcd(x1, x2):
    """The greatest common divisor of `|x1|` and `|x2|`, element-wise (integers)."""
    return torch.gcd(*_both(x1, x2))


@keras_op
def lcm(x1, x2):
    """The least common multiple of `|x1|` and `|x2|`, element-wise (integers)."""
    return torch.lcm(*_both(x1, x2))


@keras_op
def heaviside(x1, x2):
    """The Heaviside step function: 0 where `x1 < 0`, `x2` where `x1 == 0`, 1 where `x1 > 0`."""
    return torch.heaviside(*_float_pair(x1, x2))


@keras_op
def hypot(x1, x2):
    """`sqrt(x1**2 + x2**2)`, element-wise, without intermediate overflow."""
    return torch.hypot(*_float_pair(x1, x2))


@keras_op
def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    x = _t(x)
    name = _name(x)
    if name in ("int64", "float64"):
        dtype = "float64"
    elif name in ("bfloat16", "float16"):
        dtype = name
    else:
        dtype = config.floatx()
    return torch.i0(_cast(x, dtype))


@keras_op
def isneginf(x):
    """Whether each element of `x` is negative infinity."""
    return torch.isneginf(_t(x))


@keras_op
def isposinf(x):
    """Whether each element of `x` is positive infinity."""
    return torch.isposinf(_t(x))


@keras_op
def signbit(x):
    """Whether the sign bit of each element is set (`True` for negatives and `-0.0`)."""
    return torch.signbit(_t(x))


@keras_op
def sinc(x):
    """The normalized sinc function `sin(pi x) / (pi x)`."""
    return torch.sinc(_t(x))


@keras_op
def ldexp(x1, x2):
    """`x1 * 2**x2`, element-wise; `x2` must be an integer tensor."""
    x1, x2 = _both(x1, x2)
    if _name(x2) not in ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32"):
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={x2.dtype}")
    return _cast(torch.ldexp(x1, x2), result_type(x1.dtype, x2.dtype, float))


@keras_op
def logaddexp(x1, x2):
    """`log(exp(x1) + exp(x2))`, element-wise, computed stably."""
    x1, x2 = _both(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype, float)
    if dtype == "float16" and x1.device.type == "cpu":
        return torch.logaddexp(_cast(x1, "float32"), _cast(x2, "float32")).to(torch.float16)
    return torch.logaddexp(_cast(x1, dtype), _cast(x2, dtype))


@keras_op
def logaddexp2(x1, x2):
    """`log2(2**x1 + 2**x2)`, element-wise, computed stably."""
    x1, x2 = _both(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype, float)
    return torch.logaddexp2(_cast(x1, dtype), _cast(x2, dtype))


@keras_op
def nextafter(x1, x2):
    """The next floating-point value after `x1` towards `x2`, element-wise."""
    x1, x2 = _both(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype, float)
    return torch.nextafter(_cast(x1, "float64"), _cast(x2, "float64")).to(to_torch_dtype(dtype))


@keras_op
def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether all elements are equal within `atol + rtol * |x2|` (a boolean scalar tensor)."""
    x1, x2 = _both(x1, x2)
    dtype = result_type(x1.dtype, x2.dtype)
    x1, x2 = _cast(x1, dtype), _cast(x2, dtype)
    if "float" in dtype:
        return torch.all(torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))
    return torch.all(torch.eq(x1, x2))


@keras_op
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of `x1` is in `x2` (`invert=True`: is not)."""
    x1, x2 = _both(x1, x2)
    if result_type(x1.dtype, x2.dtype) == "bool":
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    if x1.dtype == torch.bool:
        x1 = x1.to(x2.dtype)
    if x2.dtype == torch.bool:
        x2 = x2.to(x1.dtype)
    return torch.isin(x1, x2, assume_unique=assume_unique, invert=invert)
