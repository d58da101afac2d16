"""Keras 3's serialized-object format for losses and metrics (used by both packages).

A class serializes as `{"module": "keras.losses", "class_name": "MeanSquaredError", "config": {...},
"registered_name": None}`; a built-in function as `{"module": "builtins", "class_name": "function",
"config": "mean_squared_error", "registered_name": "function"}`. Nothing here imports a module or
runs code named by a config: names are looked up in `custom_objects`, the registry, then tables.
"""

import types
import warnings

from keraslike.backend.serialization import (
    find_class,
    get_registered_name,
    get_registered_object,
    serialize_function,
)

# Built-in functions that a `{"class_name": "function"}` config may name (losses and metrics fill it).
BUILTIN_FUNCTIONS = {}
# Class tables by public module (`"keras.losses"`, `"keras.metrics"`), filled by those packages.
MODULE_TABLES = {}


def public_module(module, registered_name=None):
    """Class decorator: says how Keras names the class in a config.

    `public_module("keras.losses")` marks public API (`registered_name: None`); a class Keras keeps
    private passes its Keras module and registered name, e.g.
    `public_module("keras.src.losses.losses", "LossFunctionWrapper")`.
    """

    def decorator(cls):
        cls._keras_serialized_as = (module, registered_name)
        return cls

    return decorator


def serialize_object(obj):
    """Serializes a loss/metric instance, a function, or plain values, in Keras 3's format."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {k: serialize_object(v) for k, v in obj.items()}
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # numpy / torch arrays
        return obj.tolist()
    if isinstance(obj, types.FunctionType):
        if obj.__name__ == "<lambda>":
            warnings.warn(
                "The object being serialized includes a `lambda`, which cannot be saved in a "
                "loadable form. Use a named function (registered with "
                "`keras.saving.register_keras_serializable()`) instead.",
                stacklevel=2,
            )
            return {"class_name": "__lambda__", "config": {"value": None}, "module": "builtins",
                    "registered_name": None}
        return serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize object {obj} of type {type(obj)}. To be serializable, "
            "a class must implement the `get_config()` method."
        )
    config = serialize_object(obj.get_config())
    cls = obj.__class__
    # Only the class itself counts: a user's subclass of a public class is a custom class.
    keras_name = cls.__dict__.get("_keras_serialized_as")
    if keras_name is not None:
        return {"module": keras_name[0], "class_name": cls.__name__, "config": config,
                "registered_name": keras_name[1]}
    return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
            "registered_name": get_registered_name(cls)}


def _lookup(name, custom_objects, module_objects):
    return get_registered_object(name, custom_objects=custom_objects, module_objects=module_objects)


def deserialize_object(config, module_objects, custom_objects=None, kind="object"):
    """Rebuilds what `serialize_object` produced.

    Args:
        config: A string (a name in `module_objects`), or a serialized dict.
        module_objects: The table of built-in classes and functions, by name.
        custom_objects: Optional dict of user classes and functions, by name.
        kind: `"loss"` or `"metric"`, used in error messages.

    Returns:
        An instance for a class config; the function or class itself for a string or a function
        config.
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = _lookup(config, custom_objects, module_objects)
        if obj is None:
            obj = BUILTIN_FUNCTIONS.get(config)
        if obj is None:
            raise ValueError(f"Could not interpret {kind} identifier: {config}")
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(f"Could not parse {kind} config: {config}")
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "__lambda__":
        raise ValueError(
            "Requested the deserialization of a Python lambda. This carries a risk of arbitrary "
            "code execution and is not supported; use a named, registered function instead."
        )
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(f"Expected 'config' to be a non-null str for a function. Full config: {config}")
        fn = _lookup(inner, custom_objects, None)
        if fn is None:
            fn = BUILTIN_FUNCTIONS.get(inner)
        if fn is None:
            raise TypeError(
                f"Could not locate function '{inner}'. Make sure custom functions are decorated "
                "with `@keras.saving.register_keras_serializable()`. "
                f"Full object config: {config}"
            )
        return fn
    cls = find_class(config, custom_objects, MODULE_TABLES.get(config.get("module"), module_objects))
    if cls is None:
        raise TypeError(
            f"Could not locate class '{class_name}'. Make sure custom classes are decorated with "
            "`@keras.saving.register_keras_serializable()` or passed in `custom_objects`. "
            f"Full object config: {config}"
        )
    if isinstance(cls, types.FunctionType):
        return cls
    inner = dict(inner or {})
    for key, value in inner.items():
        if isinstance(value, dict) and "class_name" in value:
            inner[key] = deserialize_object(value, module_objects, custom_objects, kind)
    return cls.from_config(inner)
