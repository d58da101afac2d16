"""Bitwise NumPy-style ops (`bitwise_and`, shifts, ...) on integer and boolean tensors."""

import torch

from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _t


def _operands(x, y, allow_int=False):
    x = _t(x)
    if allow_int and isinstance(y, int) and not isinstance(y, bool):
        return x, y
    return x, _t(y) if isinstance(y, torch.Tensor) else _t(y).to(x.device)


@keras_op
def bitwise_and(x, y):
    """Bit-wise AND of `x` and `y` (integer or boolean tensors)."""
    return torch.bitwise_and(*_operands(x, y))


@keras_op
def bitwise_or(x, y):
    """Bit-wise OR of `x` and `y` (integer or boolean tensors)."""
    return torch.bitwise_or(*_operands(x, y))


@keras_op
def bitwise_xor(x, y):
    """Bit-wise XOR of `x` and `y` (integer or boolean tensors)."""
    return torch.bitwise_xor(*_operands(x, y))


@keras_op
def bitwise_invert(x):
    """Bit-wise inversion (NOT) of `x`: `~x` for integers, logical not for booleans."""
    return torch.bitwise_not(_t(x))


@keras_op
def bitwise_not(x):
    """Alias of `bitwise_invert`."""
    return torch.bitwise_not(_t(x))


@keras_op
def bitwise_left_shift(x, y):
    """Shifts the bits of the integers `x` left by `y` (`x * 2**y`)."""
    return torch.bitwise_left_shift(*_operands(x, y, allow_int=True))


@keras_op
def left_shift(x, y):
    """Alias of `bitwise_left_shift`."""
    return torch.bitwise_left_shift(*_operands(x, y, allow_int=True))


@keras_op
def bitwise_right_shift(x, y):
    """Shifts the bits of the integers `x` right by `y` (arithmetic shift for signed types)."""
    return torch.bitwise_right_shift(*_operands(x, y, allow_int=True))


@keras_op
def right_shift(x, y):
    """Alias of `bitwise_right_shift`."""
    return torch.bitwise_right_shift(*_operands(x, y, allow_int=True))
