"""Keras 3's serialized-object format for optimizers and schedules.

`{"module": ..., "class_name": ..., "config": {...}, "registered_name": ...}`. Built-in classes
are written with their public Keras module (`keras.optimizers`, `keras.optimizers.schedules`) and
`registered_name: None`, as Keras writes them, so configs move between Keras and keraslike.
Classes are looked up in `custom_objects`, the global registry, then the built-in table; nothing
is ever imported by the name a config gives.
"""

from keraslike.backend import serialization as _shared


def serialize_object(obj, public_module, builtin_classes):
    """Returns `obj` (an object with `get_config()`) in Keras 3's serialized format."""
    # A class defined in `__main__` keeps `"module": "__main__"` here.
    return _shared.serialize_object(obj, public_module, builtin_classes, main_module="__main__")


def resolve_class(config, builtins_by_lower_name, custom_objects, kind):
    """Finds the class a serialized dict names; raises `ValueError` naming it when unknown."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret {kind} config: expected a dict with a 'class_name' key. "
            f"Received: {config!r}"
        )
    cls = _shared.find_class(config, custom_objects)
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
        known = ", ".join(sorted(c.__name__ for c in set(builtins_by_lower_name.values())))
        raise ValueError(
            f"Could not interpret {kind} identifier: {class_name!r}. Known built-in "
            f"{kind}s: {known}. A custom class must be registered with "
            "`keras.saving.register_keras_serializable()` or passed in `custom_objects`."
        )
    return cls
