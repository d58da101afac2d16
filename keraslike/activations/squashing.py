"""Squashing and shrinking activations: tanh and sigmoid families, shrink and threshold functions."""

import torch
import torch.nn.functional as F


def tanh(x):
    """Hyperbolic tangent: `(exp(x) - exp(-x)) / (exp(x) + exp(-x))`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.tanh(torch.tensor([0.0]))
    tensor([0.])
    """
    return torch.tanh(x)


def tanh_shrink(x):
    """Tanh shrink: `x - tanh(x)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.tanh_shrink(torch.tensor([1.0]))
    tensor([0.2384])
    """
    return F.tanhshrink(x)


def hard_tanh(x):
    """Hard tanh: `clip(x, -1, 1)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.hard_tanh(torch.tensor([-2.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    return F.hardtanh(x, -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """Hard shrink: `x` where `abs(x) > threshold`, `0` elsewhere.

    Args:
        x: Input tensor.
        threshold: The threshold.

    Example:

    >>> keras.activations.hard_shrink(torch.tensor([-1.0, 0.2, 1.0]))
    tensor([-1.,  0.,  1.])
    """
    return F.hardshrink(x, threshold)


def soft_shrink(x, threshold=0.5):
    """Soft shrink: `x - threshold` above `threshold`, `x + threshold` below `-threshold`, else `0`.

    Args:
        x: Input tensor.
        threshold: The threshold.

    Example:

    >>> keras.activations.soft_shrink(torch.tensor([-1.0, 0.2, 1.0]))
    tensor([-0.5000,  0.0000,  0.5000])
    """
    return F.softshrink(x, threshold)


def threshold(x, threshold, default_value):
    """Threshold: `x` where `x > threshold`, `default_value` elsewhere.

    Args:
        x: Input tensor.
        threshold: The threshold.
        default_value: The value given to elements at or below the threshold.

    Example:

    >>> keras.activations.threshold(torch.tensor([-1.0, 2.0]), 0.0, -5.0)
    tensor([-5.,  2.])
    """
    return F.threshold(x, threshold, default_value)


def sigmoid(x):
    """Sigmoid: `1 / (1 + exp(-x))`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.sigmoid(torch.tensor([0.0]))
    tensor([0.5000])
    """
    return torch.sigmoid(x)


def sparse_sigmoid(x):
    """Sparse sigmoid: `0` for `x <= -1`, `(x + 1) / 2` for `-1 < x < 1`, `1` for `x >= 1`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.sparse_sigmoid(torch.tensor([-2.0, 0.0, 2.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return torch.clamp(0.5 * (x + 1), 0.0, 1.0)


def log_sigmoid(x):
    """Log of the sigmoid: `-softplus(-x)`, computed stably.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.log_sigmoid(torch.tensor([0.0]))
    tensor([-0.6931])
    """
    return F.logsigmoid(x)


def hard_sigmoid(x):
    """Hard sigmoid (Keras 3 formula): `0` for `x <= -3`, `1` for `x >= 3`, `x / 6 + 0.5` between.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.hard_sigmoid(torch.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return F.hardsigmoid(x)
