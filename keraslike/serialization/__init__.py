"""Keras 3's serialized-object format: the one serialize/deserialize path of keraslike.

- `registry`: custom objects (`register_keras_serializable`, `custom_object_scope`, safe mode) and
  the built-in tables the packages above fill (layer classes, per-module deserializers).
- `keras_objects`: `serialize_keras_object` / `deserialize_keras_object` for any object (layers,
  models, ops, optimizers, plain values), dispatching on what the class declares
  (`_keras_build_at_init`, `get_config`, `get_build_config`, ...) and on the registered tables;
  it never imports layers, models or saving.
- `objects`: the format for objects that are not layers (initializers, losses, optimizers, ...).
- `values`, `functions`, `ops_table`: special values, named functions, op nodes.

It sits above `backend`, `graph` and `ops` and below everything else (see `keraslike/README.md`).
Nothing here imports a module or runs code named by a config.
"""

from keraslike.serialization.errors import UnknownObjectError, UnsafeDeserializationError
from keraslike.serialization.keras_objects import (
    deserialize_keras_object,
    deserialize_nested,
    serialize_for_saving,
    serialize_keras_object,
)
from keraslike.serialization.registry import (
    CustomObjectScope,
    custom_object_scope,
    enable_unsafe_deserialization,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "CustomObjectScope",
    "UnknownObjectError",
    "UnsafeDeserializationError",
    "custom_object_scope",
    "deserialize_keras_object",
    "deserialize_nested",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_for_saving",
    "serialize_keras_object",
]
