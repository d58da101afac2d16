"""Helpers shared by the NumPy-style ops: operand conversion, weak scalars, promotion."""

import torch

from keraslike.backend import config
from keraslike.backend.dtypes import torch_result_type as _result
from keraslike.ops.core import to_tensor, to_torch_dtype


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


def _keeps_scalar(x, scalar):
    """Whether torch promotes `x` with the Python `scalar` as Keras does with the scalar converted
    to a 0-d `int32`/`floatx()`/`bool` tensor: not when `x` is 0-d (a 0-d tensor takes part in
    promotion, a Python scalar does not), nor when the scalar's kind is higher than `x`'s (torch
    would give `int64` or its default float)."""
    if x.ndim == 0:
        return False
    if isinstance(scalar, bool) or x.dtype.is_floating_point or x.dtype.is_complex:
        return True
    if isinstance(scalar, int):
        return x.dtype != torch.bool
    return isinstance(scalar, float) and _floatx() == torch.get_default_dtype()


def _scalar_or_tensor(x1, x2):
    """Operands for torch ops that take a Python scalar as second argument, promoting as Keras's
    (which converts both operands with `convert_to_tensor`)."""
    if isinstance(x1, torch.Tensor):
        if isinstance(x2, torch.Tensor):
            return x1, x2
        if isinstance(x2, _Scalar) and _keeps_scalar(x1, x2):
            return x1, x2
        return x1, to_tensor(x2, device=x1.device)
    if isinstance(x2, torch.Tensor):
        return to_tensor(x1, device=x2.device), x2
    x1 = to_tensor(x1)
    return x1, (x2 if isinstance(x2, _Scalar) and _keeps_scalar(x1, x2) else to_tensor(x2, device=x1.device))


def _both(x1, x2):
    """Both operands as tensors by Keras's `convert_to_tensor` rules (a Python `int` is `int32`, a
    `float` `floatx()`: strong types, unlike `_pair`), a Python value on the other one's device."""
    if isinstance(x1, torch.Tensor) and not isinstance(x2, torch.Tensor):
        return x1, to_tensor(x2, device=x1.device)
    if isinstance(x2, torch.Tensor) and not isinstance(x1, torch.Tensor):
        return to_tensor(x1, device=x2.device), x2
    return _t(x1), _t(x2)


def _operand(x):
    """A Python scalar as is (a weak type for `_result`), anything else as a tensor."""
    return x if isinstance(x, _Scalar) else _t(x)


def _dtype_or_type(x):
    """`x.dtype` for a tensor, else `type(x)` (so Python scalars stay weak in `_result`)."""
    return x.dtype if isinstance(x, torch.Tensor) else type(x)


def _float_result(dtype):
    """Keras's result dtype for a float-valued op of one `dtype` input (`floor`, `norm`): `int64`
    gives `floatx()`, other types `result_type(dtype, float)` (`float64` gives `float32`)."""
    return _floatx() if dtype == torch.int64 else _result(dtype, float)


def _cpu_compute(dtype, device):
    """The dtype to compute a `dtype` result in on `device`: Keras computes `float16` products and
    cumulative sums in `float32` on CPU."""
    return torch.float32 if dtype == torch.float16 and device.type == "cpu" else dtype


def _cast(x, dtype):
    """`x` as `dtype` (no copy when it already is)."""
    dtype = to_torch_dtype(dtype)
    return x if x.dtype == dtype else x.to(dtype)


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


