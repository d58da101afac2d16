"""Keras 3's serialized-object format for optimizers and schedules: names kept for the package.

The implementation is `keraslike.serialization.objects` (one for every kind of object).
"""

from keraslike.serialization import objects as _objects
from keraslike.serialization.objects import resolve_builtin_class as resolve_class  # noqa: F401


def serialize_object(obj, public_module, builtin_classes):
    """Returns `obj` (an object with `get_config()`) in Keras 3's serialized format."""
    # A class defined in `__main__` keeps `"module": "__main__"` here.
    return _objects.serialize_object(obj, public_module, builtin_classes, main_module="__main__")
