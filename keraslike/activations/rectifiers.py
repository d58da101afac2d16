"""Rectifier-style activations: ReLU family, ELU family, GELU, SiLU, softplus, mish, linear."""

import torch
import torch.nn.functional as F


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Applies the rectified linear unit activation function.

    With default values this is the standard ReLU, `max(x, 0)`. Otherwise it is
    `x` for `threshold < x < max_value`, `max_value` above that, and
    `negative_slope * (x - threshold)` below `threshold`.

    Args:
        x: Input tensor.
        negative_slope: Slope for values below the threshold.
        max_value: Saturation threshold (the largest value the function returns), or `None`.
        threshold: Values at or below it are damped or set to zero.

    Returns:
        A tensor of the same shape and dtype as `x`.

    Example:

    >>> x = torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
    >>> keras.activations.relu(x, negative_slope=0.5, max_value=5.0)
    tensor([-5.0000, -2.5000,  0.0000,  5.0000,  5.0000])
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope)
        negative_part = F.relu(threshold - x) if threshold != 0 else F.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        y = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
    elif max_value == 6:
        y = F.relu6(x)
        clip_max = False
    else:
        y = F.relu(x)
    if clip_max:
        y = torch.clamp(y, 0.0, max_value)
    if negative_slope != 0.0:
        y = y - negative_slope * negative_part
    return y


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        x: Input tensor.
        negative_slope: Slope for negative values.

    Example:

    >>> keras.activations.leaky_relu(torch.tensor([-1.0, 2.0]))
    tensor([-0.2000,  2.0000])
    """
    return F.leaky_relu(x, negative_slope)


def relu6(x):
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.relu6(torch.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
    """
    return F.relu6(x)


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        x: Input tensor.
        alpha: Scale of the negative section.

    Example:

    >>> keras.activations.elu(torch.tensor([-1.0, 1.0]))
    tensor([-0.6321,  1.0000])
    """
    return F.elu(x, alpha)


def selu(x):
    """Scaled exponential linear unit: `scale * elu(x, alpha)` with Klambauer et al.'s constants.

    `alpha=1.67326324` and `scale=1.05070098`. Use with `"lecun_normal"` initialization
    and `AlphaDropout`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.selu(torch.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    return F.selu(x)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)`.

    Args:
        x: Input tensor.
        alpha: The `alpha` of the CELU formulation.

    Example:

    >>> keras.activations.celu(torch.tensor([-1.0, 1.0]))
    tensor([-0.6321,  1.0000])
    """
    return F.celu(x, alpha)


def softplus(x):
    """Softplus: `log(exp(x) + 1)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.softplus(torch.tensor([0.0]))
    tensor([0.6931])
    """
    return F.softplus(x)


def softsign(x):
    """Softsign: `x / (abs(x) + 1)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.softsign(torch.tensor([1.0]))
    tensor([0.5000])
    """
    return F.softsign(x)


def squareplus(x, b=4):
    """Squareplus: `(x + sqrt(x**2 + b)) / 2`, a smooth ReLU.

    Args:
        x: Input tensor.
        b: Smoothness parameter (non-negative).

    Example:

    >>> keras.activations.squareplus(torch.tensor([0.0]))
    tensor([1.])
    """
    return (x + torch.sqrt(x * x + b)) / 2


def sparse_plus(x):
    """SparsePlus: `0` for `x <= -1`, `(x + 1)**2 / 4` for `-1 < x < 1`, `x` for `x >= 1`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.sparse_plus(torch.tensor([-2.0, 0.0, 2.0]))
    tensor([0.0000, 0.2500, 2.0000])
    """
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def silu(x):
    """Sigmoid linear unit (swish): `x * sigmoid(x)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.silu(torch.tensor([1.0]))
    tensor([0.7311])
    """
    return F.silu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit: `x * P(X <= x)` for `X ~ N(0, 1)`.

    Args:
        x: Input tensor.
        approximate: Whether to use the tanh approximation
            `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`.

    Example:

    >>> keras.activations.gelu(torch.tensor([1.0]))
    tensor([0.8413])
    """
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x):
    """Exponential: `exp(x)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.exponential(torch.tensor([0.0]))
    tensor([1.])
    """
    return torch.exp(x)


def hard_silu(x):
    """Hard SiLU (hard swish): `x * hard_sigmoid(x)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.hard_silu(torch.tensor([-4.0, 0.0, 4.0]))
    tensor([-0., 0., 4.])
    """
    return F.hardswish(x)


def mish(x):
    """Mish: `x * tanh(softplus(x))`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.mish(torch.tensor([1.0]))
    tensor([0.8651])
    """
    return F.mish(x)


def linear(x):
    """Linear (identity) activation: returns `x` unchanged.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.linear(torch.tensor([1.0]))
    tensor([1.])
    """
    return x
