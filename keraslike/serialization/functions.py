"""Functions in configs: Keras 3's `"function"` entries, and `Lambda` layers' functions.

A function is saved by its registered name and found again by that name (in `custom_objects`,
the registry, or a built-in namespace such as `keras.activations`); its code is never saved and
Python bytecode from a file is never unmarshalled. A `Lambda` is refused in safe mode.
"""

from keraslike.serialization import registry
from keraslike.serialization.errors import UnknownObjectError, UnsafeDeserializationError


def serialize_function(fn):
    """A function in Keras 3's format: `{"module", "class_name": "function", "config": name, ...}`."""
    name = getattr(fn, "__name__", None)
    if name == "<lambda>":
        return {"class_name": "__lambda__", "config": {"value": "<lambda>"}}
    registered = registry.get_registered_name(fn)
    module = getattr(fn, "__module__", None)
    if module and module.startswith("keraslike.activations"):
        module = "keras.activations"
    return {
        "module": module,
        "class_name": "function",
        "config": registered,
        "registered_name": registered,
    }


def lambda_config(obj, config):
    """A `Lambda`'s function as Keras 3 writes it: its registered name, never its code."""
    if not registry.is_builtin_subclass(type(obj), "Lambda"):
        return config
    config = dict(config)
    for key, fn in (("function", obj.function), ("output_shape", obj._output_shape), ("mask", obj.mask)):
        if not callable(fn):
            continue
        if getattr(fn, "__name__", None) == "<lambda>":
            config[key] = {"class_name": "__lambda__", "config": {"value": "<lambda>"}}
        else:
            config[key] = {
                "module": "builtins",
                "class_name": "function",
                "config": registry.get_registered_name(fn),
                "registered_name": "function",
            }
    return config


def lookup_function(config, custom_objects=None):
    """Returns the registered (or built-in activation) function a `"function"` config names."""
    inner = config.get("config")
    if isinstance(inner, dict):
        inner = inner.get("value")
    names = [config.get("registered_name"), inner]
    custom = registry.current_custom_objects(custom_objects)
    for name in names:
        if name:
            fn = registry.get_registered_object(str(name), custom)
            if fn is not None:
                return fn
    get = registry.find_function_namespace(config.get("module"))
    if get is not None:  # a built-in function (`keras.activations.relu`)
        return get(str(inner))
    raise UnknownObjectError(
        f"Could not locate function {inner!r} (registered name {config.get('registered_name')!r}). "
        "Register it with `@keras.saving.register_keras_serializable()` or pass it in `custom_objects`."
    )


def lambda_from_config(cls, config, custom_objects):
    """Rebuilds a `Lambda` layer: refused in safe mode; otherwise its function is looked up by name."""
    name = config.get("name")
    fn_config = config.get("function")
    if registry.in_safe_mode():
        raise UnsafeDeserializationError(
            f'Lambda layer "{name}" holds a Python function, and loading it is refused in safe '
            "mode (it would run code named by the file). If you trust the file, load it with "
            "`safe_mode=False` (or `keras.config.enable_unsafe_deserialization()`) and register "
            "the function with `@keras.saving.register_keras_serializable()` or pass it in "
            "`custom_objects`."
        )
    if not isinstance(fn_config, dict) or fn_config.get("class_name") == "__lambda__":
        raise UnsafeDeserializationError(
            f'Lambda layer "{name}" holds a Python `lambda`: keraslike never unmarshals bytecode '
            "from a file. Rebuild the model with a named function registered with "
            "`@keras.saving.register_keras_serializable()`."
        )
    fn = lookup_function(fn_config, custom_objects)
    config = dict(config, function=fn)
    output_shape = config.get("output_shape")
    if isinstance(output_shape, dict):
        config["output_shape"] = lookup_function(output_shape, custom_objects)
    elif isinstance(output_shape, list):
        config["output_shape"] = tuple(output_shape)
    mask = config.get("mask")
    if isinstance(mask, dict):
        config["mask"] = lookup_function(mask, custom_objects)
    known = ("function", "output_shape", "mask", "arguments", "name", "trainable", "dtype")
    return cls(**{k: v for k, v in config.items() if k in known and v is not None or k == "function"})
