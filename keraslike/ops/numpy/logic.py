"""NumPy-style comparisons, logical ops and `where`."""

import torch

from keraslike.ops.core import like, to_tensor
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _Scalar, _keeps_scalar, _pair, _t


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
    # A Python scalar promotes as Keras's `int32`/`floatx()` tensor where torch would differ.
    if not isinstance(x1, torch.Tensor) and not _keeps_scalar(x2, x1):
        x1 = to_tensor(x1, device=x2.device)
    if not isinstance(x2, torch.Tensor) and not _keeps_scalar(x1, x2):
        x2 = to_tensor(x2, device=x1.device)
    return torch.where(condition, x1, x2)


