"""Keras 3's serialized-object format for objects that are not layers.

`{"module", "class_name", "config", "registered_name"}`: initializers, regularizers, constraints,
activations, losses, metrics, optimizers and schedules all serialize and deserialize here. A
built-in class is written with its public Keras module (`"keras.losses"`) and
`registered_name: None`; it is built in because its package lists it (`builtin_classes`) or
because the class itself declares its Keras name (`@public_module("keras.losses")`). Names are
looked up in `custom_objects`, the registry, then the package's table; nothing is imported or run
by the name a config gives.
"""

import difflib
import types
import warnings

from keraslike.serialization.registry import get_registered_name, get_registered_object

# Built-in functions that a `{"class_name": "function"}` config may name (losses and metrics fill it).
BUILTIN_FUNCTIONS = {}
# Class tables by public module (`"keras.losses"`, `"keras.metrics"`), filled by those packages.
MODULE_TABLES = {}

_REGISTER_HINT = (
    "Register it with `@keras.saving.register_keras_serializable()` or pass it in `custom_objects`."
)


def did_you_mean(identifier, known_names):
    """`" Did you mean 'mse'?"` for the known names close to `identifier` (else `""`).

    Names are compared without case or underscores, so "CategoricalCrossentropy" and
    "categorical_crossentropy" are one suggestion, spelled in the style of the identifier.
    """
    if not isinstance(identifier, str):
        return ""
    by_key = {}
    lower = identifier.islower()
    for name in sorted(map(str, known_names), key=lambda n: n.islower() != lower):
        by_key.setdefault(name.lower().replace("_", ""), name)
    key = identifier.lower().replace("_", "")
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.8)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(by_key[c]) for c in close) + "?"


def unknown_identifier_error(kind, identifier, known_names):
    """The `ValueError` for a name that is no built-in `kind`, suggesting the closest names.

    Args:
        kind: What was looked up (`"loss"`, `"activation function"`), named in the message.
        identifier: The name received.
        known_names: The names that would have been accepted.

    Returns:
        The `ValueError` to raise: Keras's `Could not interpret loss identifier: msee`, plus
        `. Did you mean 'mse'?` when some known names are close.
    """
    message = f"Could not interpret {kind} identifier: {identifier}"  # Keras's words
    hint = did_you_mean(identifier, known_names)
    return ValueError(message + ("." + hint if hint else ""))


def public_module(module, registered_name=None):
    """Class decorator: says how Keras names the class in a config.

    `public_module("keras.losses")` marks public API (`registered_name: None`); a class Keras keeps
    private passes its Keras module and registered name, e.g.
    `public_module("keras.src.losses.losses", "LossFunctionWrapper")`. Only the class itself
    counts: a user's subclass of a public class is a custom class.
    """

    def decorator(cls):
        cls._keras_serialized_as = (module, registered_name)
        return cls

    return decorator


def serialize_function(fn):
    """Returns a named function as Keras 3 writes it: `{"class_name": "function", ...}`."""
    return {
        "module": "builtins",
        "class_name": "function",
        "config": get_registered_name(fn),
        "registered_name": "function",
    }


def serialize_object(obj, module_name=None, builtin_classes=(), kind=None, main_module=None,
                     config=None):
    """Returns `obj` as `{"module", "class_name", "config", "registered_name"}`.

    Args:
        obj: An object with `get_config()`.
        module_name: The public module a built-in class is written with (`"keras.initializers"`).
        builtin_classes: The built-in classes: written with `module_name` and
            `registered_name: None`; any other class (unless it declares `public_module`) with its
            own module and registered name.
        kind: The kind of object (`"initializer"`); a non-built-in object without `get_config()`
            then raises a `ValueError` naming `keras.<module>.<Kind>` to subclass. `None` skips
            the check.
        main_module: The module written for a class defined in `__main__` (`None`, as Keras).
        config: The config to write; `obj.get_config()` by default.
    """
    cls = type(obj)
    declared = cls.__dict__.get("_keras_serialized_as")
    builtin = declared is not None or cls in builtin_classes
    if kind is not None and not builtin and not hasattr(obj, "get_config"):
        raise ValueError(
            f"Cannot serialize {kind} {obj!r}: it has no `get_config()` method. "
            f"Subclass `{module_name}.{kind.capitalize()}` and register it with "
            "`@keras.saving.register_keras_serializable()`."
        )
    if declared is not None:
        module, registered_name = declared
    elif builtin:
        module, registered_name = module_name, None
    else:
        module = main_module if cls.__module__ == "__main__" else cls.__module__
        registered_name = get_registered_name(cls)
    return {
        "module": module,
        "class_name": cls.__name__,
        "config": obj.get_config() if config is None else config,
        "registered_name": registered_name,
    }


def serialize_value(obj):
    """Serializes an object, a function or plain values (recursively), as losses and metrics do."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_value(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {k: serialize_value(v) for k, v in obj.items()}
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
    return serialize_object(obj, main_module="__main__", config=serialize_value(obj.get_config()))


def find_class(config, custom_objects=None, module_objects=None):
    """The class a serialized dict names, or `None`.

    Its `registered_name` is looked up in `custom_objects` and the registry, then its
    `class_name` in `custom_objects`, the registry and `module_objects`.
    """
    cls = None
    if config.get("registered_name"):
        cls = get_registered_object(config["registered_name"], custom_objects)
    if cls is None:
        cls = get_registered_object(config["class_name"], custom_objects, module_objects)
    return cls


def deserialize_object(config, module_objects, custom_objects=None, kind="object",
                       unknown_hint=_REGISTER_HINT):
    """Rebuilds an instance from a serialized dict (Keras 3 or Keras 2 style) or a class name.

    Raises:
        ValueError: `config` is no such dict or string (`"Could not interpret <kind> config"`),
            or names no known class (`"Unknown <kind>: '<name>'. <unknown_hint>"`).
    """
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret {kind} config: {config}")
    cls = find_class(config, custom_objects, module_objects)
    if cls is None:
        raise ValueError(f"Unknown {kind}: '{config['class_name']}'. {unknown_hint}")
    return cls.from_config(dict(config.get("config") or {}))


def deserialize_callable(config, module_objects, custom_objects=None, kind="object"):
    """Rebuilds what `serialize_value` produced (losses and metrics: classes or functions).

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
        obj = get_registered_object(config, custom_objects, module_objects)
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
        fn = get_registered_object(inner, custom_objects)
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
            inner[key] = deserialize_callable(value, module_objects, custom_objects, kind)
    return cls.from_config(inner)


def resolve_builtin_class(config, builtins_by_lower_name, custom_objects, kind):
    """Finds the class a serialized dict names (optimizers, schedules: names match in any case).

    Raises:
        TypeError: For a registered custom class that is not known here.
        ValueError: For anything else that names no known class.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret {kind} config: expected a dict with a 'class_name' key. "
            f"Received: {config!r}"
        )
    cls = find_class(config, custom_objects)
    if cls is not None:
        return cls
    class_name = config["class_name"]
    cls = builtins_by_lower_name.get(str(class_name).lower())
    if cls is None and config.get("registered_name"):
        # A custom class that was not handed to us: the saving code's TypeError rule.
        raise TypeError(
            f"Could not locate class {class_name!r} (registered as "
            f"{config['registered_name']!r}). Make sure custom classes are decorated with "
            "`@keras.saving.register_keras_serializable()` or passed in `custom_objects`. "
            f"Full object config: {config}"
        )
    if cls is None:
        known = sorted(c.__name__ for c in set(builtins_by_lower_name.values()))
        hint = did_you_mean(class_name, known)
        raise ValueError(
            f"Could not interpret {kind} identifier: {class_name!r}.{hint} Known built-in "
            f"{kind}s: {', '.join(known)}. A custom class must be registered with "
            "`keras.saving.register_keras_serializable()` or passed in `custom_objects`."
        )
    return cls


def get_object(identifier, deserialize, module_objects, kind, instantiate_classes=True,
               use_registry=True):
    """The `get(identifier)` of a Keras module.

    Args:
        identifier: `None` (gives `None`), a serialized dict (given to `deserialize`), a name
            (looked up in the registry, when `use_registry`, then in `module_objects`), or a
            callable (returned unchanged).
        deserialize: The module's `deserialize`.
        module_objects: The module's table of built-in objects by name.
        kind: Named in the `ValueError` for an identifier that is none of these.
        instantiate_classes: Whether a class found (or given) is instantiated with defaults.
        use_registry: Whether names are looked up in the registry before `module_objects`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        if use_registry:
            obj = get_registered_object(identifier, None, module_objects)
        else:
            obj = module_objects.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if instantiate_classes and isinstance(obj, type) else obj
    raise unknown_identifier_error(kind, identifier, module_objects)
