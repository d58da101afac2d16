"""The registry of serializable classes and functions, and Keras 3's serialized-object format.

Everything that turns a config back into an object looks names up here; nothing ever imports a
module or executes code named by a config.
"""

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}


def register_keras_serializable(package="Custom", name=None):
    """Registers a class or function so configs can name it (`"package>name"`).

    Args:
        package: The package the object is registered under.
        name: The name to register it under; defaults to the object's `__name__`.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="my_package")
    class MyDense(keras.layers.Layer):
        ...
    ```
    """

    def decorator(obj):
        object_name = name if name is not None else obj.__name__
        registered_name = f"{package}>{object_name}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register a class that does not have a get_config() method. Received: {obj}"
            )
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered_name
        return obj

    return decorator


def get_registered_name(obj):
    """Returns the name `obj` was registered under, or its own `__name__`."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Looks `name` up in `custom_objects`, the global registry, then `module_objects`.

    Returns:
        The object, or `None` when no table has it.
    """
    for table in (custom_objects, _GLOBAL_CUSTOM_OBJECTS, module_objects):
        if table and name in table:
            return table[name]
    if custom_objects and ">" in name:
        short = name.split(">", 1)[1]
        if short in custom_objects:
            return custom_objects[short]
    return None


def get_custom_objects():
    """Returns the global dict of registered custom objects (mutable, as in Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS


# --- Keras 3's serialized-object format, shared by the modules that read and write it. ---

_REGISTER_HINT = (
    "Register it with `@keras.saving.register_keras_serializable()` or pass it in `custom_objects`."
)


def serialize_function(fn):
    """Returns a named function as Keras 3 writes it: `{"class_name": "function", ...}`."""
    return {
        "module": "builtins",
        "class_name": "function",
        "config": get_registered_name(fn),
        "registered_name": "function",
    }


def serialize_object(obj, module_name, builtin_classes, kind=None, main_module=None):
    """Returns `obj` as `{"module", "class_name", "config", "registered_name"}`.

    Args:
        obj: An object with `get_config()`.
        module_name: The public module a built-in class is written with (`"keras.initializers"`).
        builtin_classes: The built-in classes: written with `module_name` and
            `registered_name: None`; any other class with its own module and registered name.
        kind: The kind of object (`"initializer"`); a non-built-in object without `get_config()`
            then raises a `ValueError` naming `keras.<module>.<Kind>` to subclass. `None` skips
            the check.
        main_module: The module written for a class defined in `__main__` (`None`, as Keras).
    """
    cls = type(obj)
    builtin = cls in builtin_classes
    if kind is not None and not builtin and not hasattr(obj, "get_config"):
        raise ValueError(
            f"Cannot serialize {kind} {obj!r}: it has no `get_config()` method. "
            f"Subclass `{module_name}.{kind.capitalize()}` and register it with "
            "`@keras.saving.register_keras_serializable()`."
        )
    if builtin:
        module = module_name
    else:
        module = main_module if cls.__module__ == "__main__" else cls.__module__
    return {
        "module": module,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if builtin else get_registered_name(cls),
    }


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
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
