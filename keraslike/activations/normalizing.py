"""Activations over an axis: softmax, log_softmax, sparsemax, GLU."""

import torch
import torch.nn.functional as F

from keraslike.ops.nn import warn_if_softmax_axis_has_size_one


def _over_axes(fn, x, axis):
    """Applies a softmax-like `fn(x, dim)` over `axis`: an int, a tuple of ints, or `None` (all)."""
    if axis is None:
        return fn(x.reshape(-1), -1).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        axes = [a % x.ndim for a in axis]
        rest = [d for d in range(x.ndim) if d not in axes]
        moved = x.permute(*rest, *axes)  # reduced axes last, flattened into one
        out = fn(moved.reshape(*moved.shape[: len(rest)], -1), -1).reshape(moved.shape)
        inverse = [0] * x.ndim
        for i, d in enumerate(rest + axes):
            inverse[d] = i
        return out.permute(*inverse)
    return fn(x, axis)


def softmax(x, axis=-1):
    """Softmax: turns logits into a probability distribution along `axis`.

    Computes `exp(x) / sum(exp(x), axis)`, numerically stably.

    Args:
        x: Input tensor.
        axis: Integer, tuple of integers, or `None` (all axes) along which to normalize.

    Example:

    >>> keras.activations.softmax(torch.tensor([[1.0, 1.0]]))
    tensor([[0.5000, 0.5000]])
    """
    warn_if_softmax_axis_has_size_one(x, axis)
    return _over_axes(F.softmax, x, axis)


def log_softmax(x, axis=-1):
    """Log-softmax: `x - logsumexp(x, axis)`.

    Args:
        x: Input tensor.
        axis: Integer, tuple of integers, or `None` (all axes) along which to normalize.

    Example:

    >>> keras.activations.log_softmax(torch.tensor([0.0, 0.0]))
    tensor([-0.6931, -0.6931])
    """
    return _over_axes(F.log_softmax, x, axis)


def glu(x, axis=-1):
    """Gated linear unit: splits `x` in halves `a, b` along `axis` and returns `a * sigmoid(b)`.

    Args:
        x: Input tensor; its size along `axis` must be even.
        axis: The axis to split along.

    Example:

    >>> keras.activations.glu(torch.tensor([[1.0, 0.0]]))
    tensor([[0.5000]])
    """
    return F.glu(x, axis)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex along `axis`.

    Like softmax it returns non-negative values that sum to 1, but many are exactly 0.

    Args:
        x: Input tensor.
        axis: The axis to normalize along.

    Example:

    >>> keras.activations.sparsemax(torch.tensor([1.0, 1.0, -3.0]))
    tensor([0.5000, 0.5000, 0.0000])
    """
    axis = axis % x.ndim
    x_sorted = torch.sort(x, dim=axis, descending=True).values
    cumsum = torch.cumsum(x_sorted, dim=axis)
    rank_shape = [1] * x.ndim
    rank_shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(rank_shape)
    support = x_sorted - (cumsum - 1) / rank > 0
    k = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, cumsum, torch.zeros_like(cumsum)).sum(dim=axis, keepdim=True) - 1) / k
    return torch.clamp(x - tau, min=0.0)
