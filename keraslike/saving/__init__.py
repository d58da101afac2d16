"""Saving and loading models (`keras.saving`): safetensors files, Keras 3 `.keras` and `.weights.h5`.

- `model.save("m.safetensors")` / `load_model`: one pickle-free file with the architecture
  (Keras 3's config schema), weights, compile config and optimizer state (`native`).
- `model.save("m.keras")`: a Keras 3 archive that Keras loads, and Keras's archives load here.
- `save_weights` / `load_weights`: `.weights.safetensors` or Keras's `.weights.h5`.
- Legacy tf.keras / Keras 2 `.h5` model and weights files are read (not written): `legacy_h5`.
- Each format is a `formats.SavingFormat`; `saving_api` picks one by path or by the file's bytes.
- `serialize_keras_object` / `deserialize_keras_object` and the registry
  (`register_keras_serializable`, `custom_objects`) live in `keraslike.serialization` and are
  re-exported here, with `model_to_json` / `model_from_json`.

Loading never unpickles, evaluates or imports anything a file names; see `keraslike.serialization`.
"""

from keraslike.saving.errors import (
    SavedFileError,
    SavedFileNotFoundError,
    UnknownObjectError,
    UnsafeDeserializationError,
)
from keraslike.saving.file_editor import KerasFileEditor
from keraslike.serialization.registry import (
    CustomObjectScope,
    custom_object_scope,
    enable_unsafe_deserialization,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from keraslike.saving.saving_api import (
    load_model,
    load_weights,
    model_from_json,
    model_to_json,
    save_model,
    save_weights,
)
from keraslike.serialization.keras_objects import deserialize_keras_object, serialize_keras_object

__all__ = [
    "CustomObjectScope",
    "KerasFileEditor",
    "SavedFileError",
    "SavedFileNotFoundError",
    "UnknownObjectError",
    "UnsafeDeserializationError",
    "custom_object_scope",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "model_from_json",
    "model_to_json",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]
