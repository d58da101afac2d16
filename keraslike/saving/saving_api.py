"""`save_model` / `load_model` / `save_weights` / `load_weights`: the format is chosen by the path.

| path                                   | format                                                |
|----------------------------------------|-------------------------------------------------------|
| `m.safetensors`, or no extension       | keraslike's single safetensors file (`native`)        |
| `m.keras`                              | Keras 3 archive (`keras_archive`)                     |
| `w.weights.safetensors`                | weights only, safetensors (`native`)                  |
| `w.weights.h5`                         | weights only, Keras 3's h5 layout (`keras_h5`)        |
| `m.h5` (reading only)                  | legacy tf.keras / Keras 2 HDF5 model or weights       |
"""

import json
import os

from keraslike.saving import (
    keras_archive,
    keras_h5,
    legacy_h5,
    native,
    object_registry,
    serialization_lib,
)
from keraslike.saving.atomic import atomic_path
from keraslike.saving.errors import SavedFileError
from keraslike.saving.safetensors_io import check_exists


def _path(filepath):
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"The file path must be a string or a path. Received: {filepath!r}")
    return os.fspath(filepath)


def _suffix(path):
    return os.path.basename(path).lower()


def _open_h5(path):
    h5py = keras_h5.import_h5py()
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise SavedFileError(path, f"not a valid HDF5 file ({e}).") from None


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Saves a model (architecture, weights, compile config and optimizer state) to one file.

    Args:
        model: The model.
        filepath: `.safetensors` (or a path without extension) for keraslike's format, `.keras`
            for a Keras 3 archive.
        overwrite: Whether an existing file may be replaced (atomically).
        include_optimizer: Whether to save the optimizer's state.

    Raises:
        ValueError: For an unsupported extension (`.h5`: use `.keras` or `.safetensors`).

    Example:

    ```python
    model.save("my_model.safetensors")
    restored = keras.models.load_model("my_model.safetensors")
    ```
    """
    if kwargs.pop("save_format", None) not in (None, "keras", "safetensors"):
        raise ValueError("`save_format` is not supported: the extension of `filepath` decides.")
    kwargs.pop("zipped", None)
    if kwargs:
        raise ValueError(f"Unrecognized arguments for `save_model`: {sorted(kwargs)}")
    path = _path(filepath)
    name = _suffix(path)
    if name.endswith(".keras"):
        return keras_archive.save_model(
            model, path, overwrite=overwrite, include_optimizer=include_optimizer
        )
    if name.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"Saving a whole model to {path!r} in the legacy HDF5 format is not supported. Use "
            "`.keras` (Keras 3 archive) or `.safetensors`; `save_weights` writes `.weights.h5`."
        )
    if name.endswith(".safetensors") or "." not in name:
        return native.save_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)
    raise ValueError(
        f"Unsupported file extension for saving a model: {path!r}. Use `.safetensors` "
        "(keraslike's single-file format, also used for a path without extension) or `.keras`."
    )


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with `model.save()` (or a Keras 3 `.keras` archive).

    Args:
        filepath: A `.safetensors` file (or the path without extension it was saved under) or
            a `.keras` archive.
        custom_objects: Optional dict name -> custom class or function the model uses.
        compile: Whether to compile the model as it was saved and restore its optimizer state
            (so training resumes exactly).
        safe_mode: When `True` (default), a `Lambda` layer's Python function is refused.

    Returns:
        The model.

    Raises:
        ValueError: Naming the file and the problem: a missing path (also a
            `FileNotFoundError`), a truncated or corrupt file, a safetensors file without a
            model config, weights that do not match the config.
        TypeError: (also a `ValueError`) for a class that is not built in, registered, or in
            `custom_objects`.
    """
    path = _path(filepath)
    check_exists(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK"):
        return keras_archive.load_model(
            path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )
    if magic.startswith(b"\x89HDF"):
        with _open_h5(path) as f:
            if not legacy_h5.is_legacy_file(f):
                raise SavedFileError(
                    path,
                    "it is a Keras 3 weights file (`.weights.h5`), not a model: build the model "
                    "and call `model.load_weights(path)`.",
                )
            return legacy_h5.load_model(
                f, path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
            )
    return native.load_model(path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_weights(model, filepath, overwrite=True):
    """Saves the model's weights: `.weights.safetensors` or Keras's `.weights.h5`.

    Raises:
        ValueError: For another extension.
    """
    path = _path(filepath)
    name = _suffix(path)
    if name.endswith(".weights.h5"):
        h5py = keras_h5.import_h5py()
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"{path!r} exists and `overwrite=False`.")
        with atomic_path(path, overwrite=overwrite) as tmp:
            with h5py.File(tmp, "w") as f:
                keras_h5.write_weights(f, model)
        return
    if name.endswith(".weights.safetensors"):
        return native.save_weights(model, path, overwrite=overwrite)
    raise ValueError(
        "The filename must end in `.weights.h5` (Keras's layout) or `.weights.safetensors` "
        f"(keraslike's). Received: filepath={path!r}"
    )


def load_weights(model, filepath, skip_mismatch=False):
    """Loads weights saved by `save_weights` (or by Keras 3 as `.weights.h5`) into `model`.

    Args:
        model: A built model with the same architecture.
        filepath: `.weights.safetensors` (or any safetensors file keyed like `state_dict()`),
            `.weights.h5`, or a `.keras` archive (its weights).
        skip_mismatch: Load what matches and warn about the rest instead of raising.

    Raises:
        ValueError: Listing the missing, unexpected and mis-shaped weights.
    """
    path = _path(filepath)
    check_exists(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\x89HDF"):
        with _open_h5(path) as f:
            if legacy_h5.is_legacy_file(f):
                legacy_h5.load_weights(model, f, path, skip_mismatch=skip_mismatch)
            else:
                keras_h5.read_weights(f, model, path, skip_mismatch=skip_mismatch)
        return
    if magic.startswith(b"PK"):
        import tempfile

        with keras_archive.open_archive(path) as zf:
            if keras_archive.WEIGHTS not in zf.namelist():
                raise SavedFileError(path, f"the archive has no {keras_archive.WEIGHTS!r} member.")
            h5py = keras_h5.import_h5py()
            with tempfile.TemporaryDirectory(prefix="keraslike-keras-") as scratch:
                local = os.path.join(scratch, "weights.h5")
                with zf.open(keras_archive.WEIGHTS) as src, open(local, "wb") as dst:
                    import shutil

                    shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
                with h5py.File(local, "r") as f:
                    keras_h5.read_weights(f, model, path, skip_mismatch=skip_mismatch)
        return
    return native.load_weights(model, path, skip_mismatch=skip_mismatch)


def model_to_json(model, **kwargs):
    """Returns the model's architecture as a JSON string (Keras 3's serialized schema).

    Args:
        model: The model.
        **kwargs: Passed to `json.dumps` (e.g. `indent=2`).
    """
    config = serialization_lib.serialize_keras_object(model)
    return json.dumps(config, default=native._json_default, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Rebuilds a model (with fresh weights) from `model.to_json()` output.

    Args:
        json_string: The JSON string.
        custom_objects: Optional dict name -> custom class or function.

    Returns:
        An uncompiled model.

    Raises:
        ValueError: For invalid JSON.
    """
    try:
        config = json.loads(json_string)
    except ValueError as e:
        raise ValueError(f"`model_from_json` received invalid JSON: {e}") from None
    with object_registry.custom_object_scope(custom_objects or {}):
        return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)
