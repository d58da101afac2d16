"""Keras 3's serialized-object format for optimizers and schedules: names kept for the package.

The implementation is `keraslike.serialization.objects` (one for every kind of object).
"""

import inspect

from keraslike.serialization import objects as _objects
from keraslike.serialization.objects import resolve_builtin_class as resolve_class  # noqa: F401


def serialize_object(obj, public_module, builtin_classes):
    """Returns `obj` (an object with `get_config()`) in Keras 3's serialized format."""
    # A class defined in `__main__` keeps `"module": "__main__"` here.
    return _objects.serialize_object(obj, public_module, builtin_classes, main_module="__main__")


# Every built-in optimizer class by lower-cased name; filled by the package's `__init__`, so the
# wrapper optimizers (which `__init__` imports) can deserialize the optimizers they wrap.
OPTIMIZER_CLASSES = {}


def serialize_inner(optimizer):
    """An optimizer held by another (LossScaleOptimizer, OptimizerMap) in Keras's format."""
    cls = type(optimizer)
    builtin = (cls,) if OPTIMIZER_CLASSES.get(cls.__name__.lower()) is cls else ()
    return serialize_object(optimizer, "keras.optimizers", builtin)


def deserialize_inner(config, custom_objects=None):
    """The optimizer of a config written by `serialize_inner` (or by Keras)."""
    cls = resolve_class(config, OPTIMIZER_CLASSES, custom_objects, "optimizer")
    inner = dict(config.get("config") or {})
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)
