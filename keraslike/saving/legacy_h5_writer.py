"""Writes legacy HDF5 model files (`model.save("m.h5")`), laid out as Keras 3's legacy writer does.

Keras 3 still writes `.h5` models (and says the format is legacy). The file (see `legacy_h5` for
the reader):

    attrs: keras_version, backend, model_config (JSON), training_config (JSON, when compiled)
    model_weights/            attrs: layer_names, keras_version, backend
    model_weights/<layer>/    attrs: weight_names (the weights' paths); datasets at those paths
    optimizer_weights/        attrs: weight_names; the optimizer's variables at their paths

`model_config` is `{"class_name", "config"}` with each layer of a graph model as Keras's legacy
config writes it: `class_name`, `config`, `name`, `inbound_nodes`, no `module`. Op nodes keep
their `module` (a Keras 3 file without it names a layer class `Add` where an op was meant, and no
loader reads it back). Weights are in Keras's layouts, each layer's trainable weights first, as
Keras writes and reads them. The file is written to a temporary path and moved into place.
"""

import logging

import numpy as np

from keraslike.saving import keras_h5
from keraslike.saving.atomic import atomic_path
from keraslike.saving.keras_archive import KERAS_VERSION
from keraslike.saving.native import to_json
from keraslike.serialization.keras_objects import serialize_keras_object

# HDF5 stores an attribute in the object header, at most 64 KiB: longer name lists are split
# into `name0`, `name1`, ... (as Keras splits them).
_HEADER_LIMIT = 64512


def _legacy_layer_entry(entry):
    """A layer of a serialized graph model, as Keras's legacy config writes it."""
    if str(entry.get("module") or "").startswith("keras.src.ops"):
        return entry  # an op node: see the module docstring
    result = {key: value for key, value in entry.items()
              if key not in ("module", "registered_name", "build_config", "compile_config")}
    config = result.get("config")
    if isinstance(config, dict) and isinstance(config.get("layers"), list):
        result["config"] = dict(config, layers=[_legacy_layer_entry(e) for e in config["layers"]])
    return result


def legacy_model_config(model):
    """`{"class_name", "config"}` of `model` in Keras's legacy h5 form."""
    entry = _legacy_layer_entry(serialize_keras_object(model))
    return {"class_name": entry["class_name"], "config": entry["config"]}


def write_name_list(group, name, names):
    """Writes `names` as the attribute `name` of `group` (split as Keras does when too long)."""
    if not names:
        group.attrs[name] = np.asarray([])
        return
    size = sum(len(n.encode("utf-8")) + 16 for n in names)  # + per-string overhead
    chunks = -(-size // _HEADER_LIMIT)
    if chunks == 1:
        group.attrs[name] = list(names)  # variable-length strings, as Keras writes them
        return
    for i, part in enumerate(np.array_split(np.asarray(names, dtype=object), chunks)):
        group.attrs[f"{name}{i}"] = [str(n) for n in part]


def _write_variables(group, variables):
    names = [v.path for v in variables]
    write_name_list(group, "weight_names", names)
    for name, variable in zip(names, variables):
        value = np.asarray(variable.numpy())
        group.create_dataset(name, data=value)


def _legacy_order(layer):
    """A layer's weights as Keras's legacy format orders them: trainable first."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _own_weights(model):
    """The model's weights that none of its layers holds (Keras's `top_level_model_weights`)."""
    held = {id(t) for layer in model.layers for t in layer._stored_weights()}
    stored = model._stored_trainable_weights() + model._stored_non_trainable_weights()
    return [w for w, t in zip(_legacy_order(model), stored) if id(t) not in held]


def _training_config(model):
    compile_config = model.get_compile_config()
    if not compile_config:
        return None
    training = {key: value for key, value in compile_config.items() if key != "optimizer"}
    optimizer = model.optimizer
    training["optimizer_config"] = {
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
    }
    return training


def _dumps(value):
    return to_json(value).encode("utf-8")


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Writes `model` to a legacy `.h5` file (see the module docstring)."""
    h5py = keras_h5.import_h5py()
    logging.getLogger("keras").warning(
        "You are saving your model as an HDF5 file via `model.save()` or "
        "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend "
        "using instead the native Keras format, e.g. `model.save('my_model.keras')` or "
        "`keras.saving.save_model(model, 'my_model.keras')`."
    )
    model_config = _dumps(legacy_model_config(model))  # before any file is touched
    training = _training_config(model) if include_optimizer and getattr(model, "compiled", False) else None
    with atomic_path(filepath, overwrite=overwrite) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["keras_version"] = KERAS_VERSION
            f.attrs["backend"] = "torch"
            f.attrs["model_config"] = model_config
            if training is not None:
                f.attrs["training_config"] = _dumps(training)
            weights = f.create_group("model_weights")
            write_name_list(weights, "layer_names", [layer.name for layer in model.layers])
            weights.attrs["backend"] = "torch"
            weights.attrs["keras_version"] = KERAS_VERSION
            for layer in model.layers:
                _write_variables(weights.create_group(layer.name), _legacy_order(layer))
            _write_variables(weights.create_group("top_level_model_weights"), _own_weights(model))
            if training is not None and model.optimizer is not None:
                _write_variables(f.create_group("optimizer_weights"), list(model.optimizer.variables))
