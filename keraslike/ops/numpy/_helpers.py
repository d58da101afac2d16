"""Helpers shared by the NumPy-style ops: operand conversion, weak scalars, promotion."""

import torch

from keraslike.backend import config
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


