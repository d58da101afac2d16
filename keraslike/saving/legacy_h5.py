"""Legacy HDF5 files: tf.keras / Keras 2 `model.save("m.h5")` and `save_weights("w.h5")`.

Layout (as Keras 2 and Keras 3's legacy writer lay it out):

    attrs: model_config (JSON), training_config (JSON), keras_version, backend
    model_weights/            attrs: layer_names
    model_weights/<layer>/    attrs: weight_names ("dense/kernel:0", ...); datasets at those names

A weights-only file has `layer_names` on the root group. Each layer's arrays are in Keras's
layouts, trainable weights first (Keras's legacy order), and go through `set_weights`, read one
weight at a time (never the whole file at once). A compiled model's optimizer state
(`optimizer_weights`) is restored, as Keras's legacy loader does. `legacy_h5_writer` writes them.

`load_model` builds the model on `meta` first and checks every layer's weight shapes against
the file's datasets (metadata only), so a config naming sizes the file does not hold allocates
nothing; the checked model is then given uninitialized memory that the file fills.
Configs are Keras 2's or Keras 3's (no `module` keys): classes are found by name in keraslike's
own tables and the registry, as for every other format.
"""

import json
import warnings

import numpy as np

from keraslike.layers.layer_weights import LayerWeights
from keraslike.saving import keras_h5, materialize
from keraslike.saving.errors import SavedFileError, malformed_config
from keraslike.serialization import keras_objects, registry


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(attrs, key):
    if key not in attrs and f"{key}0" in attrs:  # a long list, split in chunks (`key0`, ...)
        values, i = [], 0
        while f"{key}{i}" in attrs:
            values.extend(attrs[f"{key}{i}"])
            i += 1
        return [_text(v) for v in values]
    return [_text(v) for v in attrs.get(key, [])]


def is_legacy_file(f):
    """Whether an open h5py file is a legacy (Keras 2 style) model or weights file."""
    return "model_config" in f.attrs or "layer_names" in f.attrs or "model_weights" in f


def _layer_datasets(f, filepath):
    """`[(layer name, [checked datasets in Keras order])]` of a legacy file, in file order.

    Only metadata is read: the values are read one weight at a time when they are set.
    """
    h5py = keras_h5.import_h5py()
    group = f["model_weights"] if "model_weights" in f else f
    if "layer_names" not in group.attrs:
        raise SavedFileError(filepath, "legacy h5 weights without a `layer_names` attribute.")
    result = []
    for name in _names(group.attrs, "layer_names"):
        if name not in group:
            raise SavedFileError(filepath, f"layer {name!r} is listed but has no group in the file.")
        layer_group = group[name]
        datasets = []
        for weight_name in _names(layer_group.attrs, "weight_names"):
            dataset = layer_group.get(weight_name)
            if dataset is None:
                raise SavedFileError(filepath, f"weight {name}/{weight_name} is missing.")
            datasets.append(keras_h5.checked_dataset(dataset, h5py, filepath, f"{name}/{weight_name}"))
        result.append((name, datasets))
    return result


class _LazyArray:
    """A dataset read when `set_weights` asks for its values (`np.asarray`), then let go."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.shape = tuple(dataset.shape)

    def __array__(self, dtype=None, copy=None):
        value = self.dataset[()]
        return value if dtype is None else value.astype(dtype, copy=False)


def _pairs(model, f, filepath, by_name):
    """`[(label, layer, datasets)]`: the file's layers matched to the model's (by name when all
    names match, else in order, as Keras 2's `load_weights`)."""
    stored = [(name, datasets) for name, datasets in _layer_datasets(f, filepath) if datasets]
    layers = {layer.name: layer for layer in model.layers if layer._stored_weights()}
    if by_name and all(name in layers for name, _ in stored) and len(stored) == len(layers):
        return [(name, layers[name], datasets) for name, datasets in stored]
    targets = list(layers.values())
    if len(targets) != len(stored):
        raise ValueError(
            f"The legacy weights in {str(filepath)!r} hold {len(stored)} layers with weights "
            f"({[n for n, _ in stored]}), the model {len(targets)} ({list(layers)})."
        )
    return [(f"{name} -> {layer.name}", layer, datasets)
            for (name, datasets), layer in zip(stored, targets)]


def _keras_order(layer, arrays):
    """`arrays` (the file's order: trainable weights first, as Keras writes and reads them) in
    the order of `layer.weights` (`set_weights`'), which differs when a frozen sublayer comes
    first."""
    stored = layer._stored_weights()
    legacy = layer._stored_trainable_weights() + layer._stored_non_trainable_weights()
    if len(arrays) != len(stored) or [id(t) for t in legacy] == [id(t) for t in stored]:
        return arrays
    position = {id(t): i for i, t in enumerate(legacy)}
    return [arrays[position[id(t)]] for t in stored]


def _set(layer, datasets, label, errors):
    if type(layer).set_weights is LayerWeights.set_weights:
        arrays = [_LazyArray(d) for d in datasets]  # the built-in reads one weight at a time
    else:
        arrays = [np.asarray(d[()]) for d in datasets]
    arrays = _keras_order(layer, arrays)
    try:
        layer.set_weights(arrays)
    except ValueError as e:
        errors.append(f"{label}: {e}")


def load_weights(model, f, filepath, by_name=True, skip_mismatch=False):
    """Loads a legacy file's weights into `model` (matched by layer name, else by order)."""
    errors = []
    for label, layer, datasets in _pairs(model, f, filepath, by_name):
        _set(layer, datasets, label, errors)
    if errors:
        message = f"The weights in {str(filepath)!r} do not match the model: " + "; ".join(errors)
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message + " (skipped: skip_mismatch=True)", stacklevel=3)


def _check_shapes(skeleton, f, filepath):
    """Raises a `SavedFileError` when a layer's weights (built on `meta`) do not have the
    shapes of the file's datasets; reads no values."""
    problems = []
    for label, layer, datasets in _pairs(skeleton, f, filepath, by_name=True):
        entries = getattr(layer, "_weight_entries", None)
        if entries is None or type(layer).set_weights is not LayerWeights.set_weights:
            continue  # a layer's own `set_weights` checks what it takes
        expected = [tuple(spec.layout.keras_shape(owner._find_tensor(spec.attr).shape))
                    for owner, spec in entries()]
        stored = [tuple(d.shape) for d in _keras_order(layer, datasets)]
        if expected != stored:
            problems.append(f"{label}: the config makes weights of shapes {expected}, the file holds {stored}")
    if problems:
        raise SavedFileError(filepath, "its weights do not match its model config: " + "; ".join(problems))


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
        def deserialize():
            return keras_objects.deserialize_keras_object(
                json.loads(json.dumps(config)), custom_objects=custom_objects, safe_mode=safe_mode
            )

        with malformed_config(filepath):
            try:
                with materialize.skeleton_build():
                    skeleton = deserialize()
            except (RuntimeError, NotImplementedError):
                skeleton = None  # a layer whose build needs real values: no pre-check
            if skeleton is not None:
                _check_shapes(skeleton, f, filepath)
            model = keras_h5.materialized(skeleton) if skeleton is not None else None
            if model is None:
                model = deserialize()
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
            else:
                _load_optimizer_state(model, f, filepath)
    return model


def _load_optimizer_state(model, f, filepath):
    """Restores the optimizer's variables from `optimizer_weights` (Keras's legacy loader does;
    a state that does not fit is left out with a warning, as there)."""
    group = f.get("optimizer_weights")
    if group is None or model.optimizer is None:
        return
    values = [np.asarray(group[name][()]) for name in _names(group.attrs, "weight_names")]
    try:
        model.optimizer.build(model.trainable_weights)
        model.optimizer.set_weights(values)
    except (ValueError, KeyError, TypeError) as e:
        warnings.warn(
            f"{str(filepath)!r}: the optimizer's saved state was not restored ({e}); the "
            "optimizer starts afresh.",
            stacklevel=3,
        )
