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
