"""Legacy HDF5 files: tf.keras / Keras 2 `model.save("m.h5")` and `save_weights("w.h5")`.

Layout (as Keras 2 and Keras 3's legacy writer lay it out):

    attrs: model_config (JSON), training_config (JSON), keras_version, backend
    model_weights/            attrs: layer_names
    model_weights/<layer>/    attrs: weight_names ("dense/kernel:0", ...); datasets at those names

A weights-only file has `layer_names` on the root group. Each layer's arrays are in Keras's
layouts and order and go through `set_weights`. Optimizer state in these files is not restored.
Configs are Keras 2's or Keras 3's (no `module` keys): classes are found by name in keraslike's
own tables and the registry, as for every other format.
"""

import json
import warnings

import numpy as np

from keraslike.saving import keras_h5
from keraslike.saving.errors import SavedFileError, malformed_config
from keraslike.serialization import keras_objects, registry


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(attrs, key):
    return [_text(v) for v in attrs.get(key, [])]


def is_legacy_file(f):
    """Whether an open h5py file is a legacy (Keras 2 style) model or weights file."""
    return "model_config" in f.attrs or "layer_names" in f.attrs or "model_weights" in f


def _layer_arrays(f, filepath):
    """`[(layer name, [arrays in Keras order])]` for the layers of a legacy file, in file order."""
    h5py = keras_h5.import_h5py()
    group = f["model_weights"] if "model_weights" in f else f
    if "layer_names" not in group.attrs:
        raise SavedFileError(filepath, "legacy h5 weights without a `layer_names` attribute.")
    result = []
    for name in _names(group.attrs, "layer_names"):
        if name not in group:
            raise SavedFileError(filepath, f"layer {name!r} is listed but has no group in the file.")
        layer_group = group[name]
        arrays = []
        for weight_name in _names(layer_group.attrs, "weight_names"):
            dataset = layer_group.get(weight_name)
            if dataset is None:
                raise SavedFileError(filepath, f"weight {name}/{weight_name} is missing.")
            dataset = keras_h5.checked_dataset(dataset, h5py, filepath, f"{name}/{weight_name}")
            arrays.append(np.asarray(dataset[()]))
        result.append((name, arrays))
    return result


def _set(layer, arrays, label, errors):
    try:
        layer.set_weights(arrays)
    except ValueError as e:
        errors.append(f"{label}: {e}")


def load_weights(model, f, filepath, by_name=True, skip_mismatch=False):
    """Loads a legacy file's weights into `model` (matched by layer name, else by order)."""
    stored = [(name, arrays) for name, arrays in _layer_arrays(f, filepath) if arrays]
    layers = {layer.name: layer for layer in model.layers if layer.weights}
    errors = []
    if by_name and all(name in layers for name, _ in stored) and len(stored) == len(layers):
        for name, arrays in stored:
            _set(layers[name], arrays, name, errors)
    else:
        # Keras 2's `load_weights` default: layers with weights, in order.
        targets = list(layers.values())
        if len(targets) != len(stored):
            raise ValueError(
                f"The legacy weights in {str(filepath)!r} hold {len(stored)} layers with weights "
                f"({[n for n, _ in stored]}), the model {len(targets)} ({list(layers)})."
            )
        for (name, arrays), layer in zip(stored, targets):
            _set(layer, arrays, f"{name} -> {layer.name}", errors)
    if errors:
        message = f"The weights in {str(filepath)!r} do not match the model: " + "; ".join(errors)
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message + " (skipped: skip_mismatch=True)", stacklevel=3)


def _compile_config(training_config):
    """Keras 2's `training_config` as the arguments of `compile_from_config`."""
    optimizer = training_config.get("optimizer_config")
    return {
        "optimizer": optimizer,
        "loss": training_config.get("loss"),
        "loss_weights": training_config.get("loss_weights"),
        "metrics": training_config.get("metrics"),
        "weighted_metrics": training_config.get("weighted_metrics"),
        "run_eagerly": training_config.get("run_eagerly", False),
        "steps_per_execution": training_config.get("steps_per_execution", 1),
        "jit_compile": training_config.get("jit_compile", False),
    }


def load_model(f, filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model from an open legacy h5 file."""
    if "model_config" not in f.attrs:
        raise SavedFileError(
            filepath,
            "this h5 file holds only weights: build the model and call `model.load_weights(path)`.",
        )
    try:
        config = json.loads(_text(f.attrs["model_config"]))
    except ValueError as e:
        message = f"the 'model_config' attribute is not valid JSON ({e})."
        raise SavedFileError(filepath, message) from None
    with registry.custom_object_scope(custom_objects or {}):
        with malformed_config(filepath):
            model = keras_objects.deserialize_keras_object(
                config, custom_objects=custom_objects, safe_mode=safe_mode
            )
        load_weights(model, f, filepath, by_name=True)
        raw = f.attrs.get("training_config")
        if compile and raw is not None and hasattr(model, "compile_from_config"):
            try:
                model.compile_from_config(_compile_config(json.loads(_text(raw))))
            except (ValueError, TypeError, KeyError) as e:
                warnings.warn(
                    f"{str(filepath)!r}: the model was loaded uncompiled, its legacy training "
                    f"config could not be used ({e}). Call `model.compile(...)`.",
                    stacklevel=3,
                )
    return model
