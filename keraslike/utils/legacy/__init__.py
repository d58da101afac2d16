"""`keras.utils.legacy`: tf.keras 2's serialization format (`{"class_name", "config"}`).

Keras 3 keeps these for code that stores configs in the old format: no `module` or
`registered_name` keys, classes looked up in `custom_objects`, the registry and `module_objects`.
"""

from keraslike.serialization.errors import UnknownObjectError
from keraslike.serialization.registry import get_registered_name, get_registered_object


def serialize_keras_object(instance):
    """Serializes a Keras object in the legacy format.

    Args:
        instance: An object with `get_config()` (a layer, initializer, optimizer, ...), or `None`.

    Returns:
        `{"class_name": <registered name>, "config": instance.get_config()}`, or `None`.

    Raises:
        ValueError: If `instance` has no `get_config()`.
    """
    if instance is None:
        return None
    if not hasattr(instance, "get_config"):
        raise ValueError(f"Cannot serialize {instance} because it doesn't implement `get_config()`.")
    return {"class_name": get_registered_name(type(instance)), "config": instance.get_config()}


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """Turns a legacy config (or a name) back into an object.

    Args:
        identifier: `{"class_name": ..., "config": ...}`, a name, or `None`.
        module_objects: Dict of names to classes / functions to look names up in.
        custom_objects: Dict of user classes / functions, searched first.
        printable_module_name: How to call the object in error messages.

    Returns:
        The object: `cls.from_config(config)` for a config, the class or function for a name.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format for {identifier}. Expecting python dict contains `class_name` and `config` as keys")
        class_name = identifier["class_name"]
        cls = get_registered_object(class_name, custom_objects, module_objects)
        if cls is None:
            raise UnknownObjectError(
                f"Unknown {printable_module_name}: '{class_name}'. Please ensure you are using a "
                "`keras.utils.custom_object_scope` and that this object is included in the scope."
            )
        config = identifier["config"]
        if hasattr(cls, "from_config"):
            if custom_objects and "custom_objects" in cls.from_config.__code__.co_varnames:
                return cls.from_config(config, custom_objects=custom_objects)
            return cls.from_config(config)
        return cls(**config)
    if isinstance(identifier, str):
        obj = get_registered_object(identifier, custom_objects, module_objects)
        if obj is None:
            raise UnknownObjectError(f"Unknown {printable_module_name}: '{identifier}'.")
        return obj
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")


__all__ = ["deserialize_keras_object", "serialize_keras_object"]
