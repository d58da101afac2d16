"""Activation functions: Keras 3's `keras.activations`, on torch tensors.

Each function takes and returns a `torch.Tensor` (any device, any float dtype) and uses torch's
fused kernel wherever its math equals Keras's. None of them syncs with the host, so they are safe
inside `torch.compile`d and CUDA-graph-captured code. Names, defaults and `serialize` strings are
Keras 3's: `serialize(swish)` is `"silu"`, `serialize(hard_swish)` is `"hard_silu"`.
"""

import types

import torch
import torch.nn.functional as F

from keraslike.serialization.objects import get_object, serialize_function
from keraslike.serialization.registry import get_registered_name, get_registered_object


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


def exponential(x):
    """Exponential: `exp(x)`.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.exponential(torch.tensor([0.0]))
    tensor([1.])
    """
    return torch.exp(x)


def hard_sigmoid(x):
    """Hard sigmoid (Keras 3 formula): `0` for `x <= -3`, `1` for `x >= 3`, `x / 6 + 0.5` between.

    Args:
        x: Input tensor.

    Example:

    >>> keras.activations.hard_sigmoid(torch.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return F.hardsigmoid(x)


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


swish = silu
hard_swish = hard_silu

_FUNCTIONS = (
    relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus,
    soft_shrink, sparse_plus, silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid,
    sparse_sigmoid, exponential, hard_sigmoid, hard_silu, hard_tanh, hard_shrink, linear, mish,
    log_softmax, log_sigmoid, sparsemax,
)
ALL_OBJECTS_DICT = {fn.__name__: fn for fn in _FUNCTIONS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu
_BUILTIN_IDS = {id(fn): fn.__name__ for fn in _FUNCTIONS}


def _public_module(obj):
    """`keraslike.layers.activations` -> `keras.layers` (as Keras names its own); else `__module__`."""
    module = type(obj).__module__
    if module.startswith("keraslike."):
        return "keras." + module.split(".")[1]
    return None if module == "__main__" else module


def serialize(activation):
    """Returns the serialized form of an activation, as `keras.activations.serialize` does.

    Args:
        activation: A built-in activation function, a registered or named custom function,
            or a callable object with `get_config()` (such as an activation layer).

    Returns:
        The name string for built-ins (`"relu"`; aliases give their canonical name, so
        `swish` gives `"silu"`); for a custom function the dict
        `{"module": "builtins", "class_name": "function", "config": name,
        "registered_name": "function"}`
        with its registered name (`"package>name"`) or `__name__`; for an object, its class dict.

    Example:

    >>> keras.activations.serialize(keras.activations.relu)
    'relu'
    """
    name = _BUILTIN_IDS.get(id(activation))
    if name is not None:
        return name
    if isinstance(activation, types.FunctionType):
        if activation.__name__ == "<lambda>":
            raise ValueError(
                f"Unknown activation function '{activation}' cannot be serialized: lambdas have no "
                "name to save. Define a named function and register it with "
                "`@keras.saving.register_keras_serializable()`."
            )
        return serialize_function(activation)
    if callable(activation) and hasattr(activation, "get_config"):
        cls = type(activation)
        module = _public_module(activation)
        builtin = module is not None and module.startswith("keras.")
        return {
            "module": module,
            "class_name": cls.__name__,
            "config": activation.get_config(),
            "registered_name": None if builtin else get_registered_name(cls),
        }
    raise ValueError(
        f"Unknown activation function '{activation}' cannot be serialized. Use an activation name "
        "from keras.activations, or register a custom activation with "
        "`@keras.saving.register_keras_serializable()`."
    )


def deserialize(config, custom_objects=None):
    """Returns the activation function (or object) named by a serialized form.

    Args:
        config: A name (`"relu"`, `"swish"`, `"package>name"`) or a dict from `serialize()`.
        custom_objects: Optional dict mapping names to custom functions or classes.

    Returns:
        The activation callable.

    Example:

    >>> keras.activations.deserialize("swish") is keras.activations.silu
    True
    """
    if isinstance(config, str):
        fn = get_registered_object(config, custom_objects, ALL_OBJECTS_DICT)
        if fn is None:
            raise ValueError(f"Unknown activation function: '{config}'.")
        return fn
    if isinstance(config, dict) and "class_name" in config:
        if config["class_name"] == "function":
            return deserialize(config["config"], custom_objects)
        names = (config.get("registered_name"), config["class_name"])
        for name in names:
            cls = name and get_registered_object(name, custom_objects)
            if cls is not None:
                inner = dict(config.get("config") or {})
                return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
        raise ValueError(
            f"Unknown activation object: '{config['class_name']}'. Register it with "
            "`@keras.saving.register_keras_serializable()` or pass it in `custom_objects`."
        )
    raise ValueError(f"Could not interpret activation function config: {config}")


def get(identifier):
    """Retrieves an activation function from an identifier.

    Args:
        identifier: `None` (gives `linear`), a name such as `"relu"`, a serialized dict,
            or any callable (returned unchanged).

    Returns:
        The activation callable.

    Example:

    >>> keras.activations.get("swish") is keras.activations.silu
    True
    """
    if identifier is None:
        return linear
    return get_object(
        identifier, deserialize, ALL_OBJECTS_DICT, "activation function", instantiate_classes=False
    )


def runtime_form(activation):
    """The cheapest callable computing `activation` with its default arguments.

    Layers call this once at construction: `linear` becomes `None` (skip it), and activations
    that are exactly a torch function become that function (no Python wrapper per call).
    """
    if activation is linear:
        return None
    return _DIRECT_TORCH.get(activation, activation)


_DIRECT_TORCH = {relu: torch.relu, tanh: torch.tanh, sigmoid: torch.sigmoid}
