"""Activation functions: Keras 3's `keras.activations`, on torch tensors.

Each function takes and returns a `torch.Tensor` (any device, any float dtype) and uses torch's
fused kernel wherever its math equals Keras's. None of them syncs with the host, so they are safe
inside `torch.compile`d and CUDA-graph-captured code. Names, defaults and `serialize` strings are
Keras 3's: `serialize(swish)` is `"silu"`, `serialize(hard_swish)` is `"hard_silu"`.
"""

import types

import torch

from keraslike.activations.normalizing import glu, log_softmax, softmax, sparsemax
from keraslike.activations.rectifiers import (
    celu,
    elu,
    exponential,
    gelu,
    hard_silu,
    leaky_relu,
    linear,
    mish,
    relu,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
    sparse_plus,
    squareplus,
)
from keraslike.activations.squashing import (
    hard_shrink,
    hard_sigmoid,
    hard_tanh,
    log_sigmoid,
    sigmoid,
    soft_shrink,
    sparse_sigmoid,
    tanh,
    tanh_shrink,
    threshold,
)
from keraslike.serialization.objects import get_object, serialize_function
from keraslike.serialization.registry import get_registered_name, get_registered_object


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


class LayerActivation:
    """The `activation` attribute of a layer whose `call` applies `self._act`.

    Assigning `layer.activation` (in `__init__` or any time later, as Keras allows) also sets
    `layer._act = runtime_form(activation)`, so `call` reads one attribute and never applies a
    stale activation. An activation given as a module (a layer) is registered as a submodule by
    `nn.Module.__setattr__`, which skips descriptors: the layer sets `_act` itself then.

    Example:

    ```python
    class Dense(Layer):
        activation = activations.LayerActivation()
    ```
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        d = layer.__dict__  # the value is kept under the attribute's own name
        if self.name in d:
            return d[self.name]
        return d["_modules"][self.name]

    def __set__(self, layer, value):
        layer.__dict__[self.name] = value
        layer.__dict__["_act"] = runtime_form(value)
