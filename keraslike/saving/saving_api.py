"""`save_model` / `load_model` / `save_weights` / `load_weights`: the format is chosen by the path.

| path                                   | format                                                |
|----------------------------------------|-------------------------------------------------------|
| `m.safetensors`, or no extension       | keraslike's single safetensors file (`native`)        |
| `m.keras`                              | Keras 3 archive (`keras_archive`)                     |
| `w.weights.safetensors`                | weights only, safetensors (`native`)                  |
| `w.weights.h5`                         | weights only, Keras 3's h5 layout (`keras_h5`)        |
| `m.h5`, `m.hdf5`                       | legacy HDF5 model (Keras 3's legacy writer's layout); |
|                                        | reads tf.keras / Keras 2 model and weights files too  |
"""

import json
import os

from keraslike.backend.traceback_utils import filter_traceback
from keraslike.distribution.sharding import full_weights
from keraslike.saving import formats, native
from keraslike.saving.safetensors_io import check_exists
from keraslike.serialization import keras_objects, registry


def _path(filepath):
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"The file path must be a string or a path. Received: {filepath!r}")
    return os.fspath(filepath)


@filter_traceback
def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Saves a model (architecture, weights, compile config and optimizer state) to one file.

    Args:
        model: The model.
        filepath: `.safetensors` (or a path without extension) for keraslike's format, `.keras`
            for a Keras 3 archive, `.h5` for the legacy HDF5 format (Keras 3 still writes it and
            calls it legacy; it needs h5py).
        overwrite: Whether an existing file may be replaced (atomically).
        include_optimizer: Whether to save the optimizer's state.

    Raises:
        ValueError: For an unsupported extension.

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
    if os.path.isdir(path):  # Keras: ValueError (its extension check); torch: IsADirectoryError
        raise ValueError(
            f"Cannot save the model to {path!r}: it is a directory. Pass a file path ending in "
            "`.keras` (Keras 3 archive) or `.safetensors` (keraslike's format)."
        )
    fmt = formats.format_saving_model(path)
    if fmt is not None:
        # A model sharded by ModelParallel (FSDP2) is gathered on every process; rank 0 writes.
        with full_weights(model) as writes:
            if writes:
                return fmt.save(model, path, overwrite=overwrite, include_optimizer=include_optimizer)
        return None
    raise ValueError(
        f"Unsupported file extension for saving a model: {path!r}. Use `.safetensors` "
        "(keraslike's single-file format, also used for a path without extension), `.keras` or "
        "`.h5` (legacy)."
    )


@filter_traceback
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
    fmt = formats.format_for_reading(path)
    return fmt.load(path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


@filter_traceback
def save_weights(model, filepath, overwrite=True):
    """Saves the model's weights: `.weights.safetensors` or Keras's `.weights.h5`.

    Raises:
        ValueError: For another extension.
    """
    path = _path(filepath)
    fmt = formats.format_saving_weights(path)
    if fmt is not None:
        with full_weights(model) as writes:
            if writes:
                return fmt.save_weights(model, path, overwrite=overwrite)
        return None
    raise ValueError(
        "The filename must end in `.weights.h5` (Keras's layout) or `.weights.safetensors` "
        f"(keraslike's). Received: filepath={path!r}"
    )


@filter_traceback
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
    if not getattr(model, "built", True):  # Keras's check: an unbuilt model has no weights yet
        raise ValueError(
            f'You are loading weights into a model ("{getattr(model, "name", model)}") that has not '
            "yet been built. Try building the model first by calling it on some data or by using "
            "`build()`."
        )
    formats.format_for_reading(path).load_weights(model, path, skip_mismatch=skip_mismatch)


def model_to_json(model, **kwargs):
    """Returns the model's architecture as a JSON string (Keras 3's serialized schema).

    Args:
        model: The model.
        **kwargs: Passed to `json.dumps` (e.g. `indent=2`).
    """
    config = keras_objects.serialize_keras_object(model)
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
    except json.JSONDecodeError as e:  # Keras's type, the message saying which call failed
        raise json.JSONDecodeError(f"`model_from_json` received invalid JSON: {e.msg}", e.doc, e.pos) from None
    with registry.custom_object_scope(custom_objects or {}):
        return keras_objects.deserialize_keras_object(config, custom_objects=custom_objects)
