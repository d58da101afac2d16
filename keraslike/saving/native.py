"""keraslike's own formats: one safetensors file for a whole model, or for its weights.

Model file (`.safetensors`, or a path without extension):

- tensors: every weight under its `state_dict()` key in torch layout (`dense_1.weight`, ...),
  each tensor once (a shared layer is stored once, under its first key), so
  `model.load_state_dict(safetensors.torch.load_file(path), strict=False)` also works; and the
  optimizer's state under `optimizer/<name>` (`optimizer/iteration`,
  `optimizer/dense_kernel_momentum`, ... as `Optimizer.get_slot_state()` names them; slots in
  their weight's torch layout). `/` never appears in a module path, so the two cannot collide.
- metadata (JSON strings): `format` = "keraslike", `format_version`, `keraslike_version`,
  `model_config` (Keras 3's serialized model: module, class_name, config, build_config,
  compile_config), `compile_config`, `optimizer_config` and `training_state`
  (`{"optimizer_built": bool, "iterations": int}`) when the model is compiled.

Weights file (`.weights.safetensors`): the same weight tensors, `format` = "keraslike-weights".
Any safetensors file whose keys are the model's `state_dict()` keys loads as weights too.
"""

import json

import torch

from keraslike import optimizers
from keraslike._version import __version__
from keraslike.saving import materialize
from keraslike.saving.errors import SavedFileError, malformed_config
from keraslike.saving.safetensors_io import TensorReader, read_header, write_file
from keraslike.serialization import keras_objects, registry

FORMAT = "keraslike"
WEIGHTS_FORMAT = "keraslike-weights"
FORMAT_VERSION = 1
_OPTIMIZER_PREFIX = "optimizer/"


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable: {value!r}")


def to_json(value):
    """`json.dumps` for configs (numpy and torch scalars become numbers)."""
    return json.dumps(value, default=_json_default)


def _version():
    return __version__


def weight_tensors(model):
    """Dict `state_dict` key -> tensor (live, torch layout), each tensor once."""
    tensors, seen = {}, set()
    for key, tensor in model.state_dict(keep_vars=True).items():
        if not isinstance(tensor, torch.Tensor) or id(tensor) in seen:
            continue
        seen.add(id(tensor))
        tensors[key] = tensor
    return tensors


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Writes the whole model to one safetensors file (see the module docstring)."""
    tensors = dict(weight_tensors(model))
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "keraslike_version": _version(),
        "weights_layout": "torch state_dict",
        "model_config": to_json(keras_objects.serialize_for_saving(model)),
    }
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if compile_config:
        metadata["compile_config"] = to_json(compile_config)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and hasattr(optimizer, "get_slot_state"):
        metadata["optimizer_config"] = to_json(optimizers.serialize(optimizer))
        state = {"optimizer_built": bool(optimizer.built), "iterations": int(optimizer.iterations)}
        metadata["training_state"] = to_json(state)
        if optimizer.built:
            for name, tensor in optimizer.get_slot_state().items():
                tensors[_OPTIMIZER_PREFIX + name] = tensor
    write_file(filepath, tensors, metadata, overwrite=overwrite)


def save_weights(model, filepath, overwrite=True):
    """Writes the model's weights (state_dict keys, torch layout) to a safetensors file."""
    metadata = {
        "format": WEIGHTS_FORMAT,
        "format_version": str(FORMAT_VERSION),
        "keraslike_version": _version(),
        "weights_layout": "torch state_dict",
    }
    write_file(filepath, weight_tensors(model), metadata, overwrite=overwrite)


def _metadata_json(header, key):
    raw = header.metadata.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise SavedFileError(header.path, f"the {key!r} metadata is not valid JSON ({e}).") from None
    except RecursionError:
        message = f"the {key!r} metadata is nested too deeply to be a config."
        raise SavedFileError(header.path, message) from None


def _check_model_file(header):
    fmt = header.metadata.get("format")
    if fmt == WEIGHTS_FORMAT:
        raise SavedFileError(
            header.path,
            "it holds only weights (written by `save_weights`), not a model. Build the model "
            "and call `model.load_weights(path)`.",
        )
    if fmt != FORMAT or "model_config" not in header.metadata:
        raise SavedFileError(
            header.path,
            "it is a safetensors file without keraslike's model metadata (no architecture "
            "config), so `load_model` cannot rebuild a model from it. If it holds weights, "
            "build the model and use `model.load_weights(path)`.",
        )
    try:
        version = int(header.metadata.get("format_version", "0"))
    except ValueError:
        version = None
    if version is None or version > FORMAT_VERSION:
        raise SavedFileError(
            header.path,
            f"format version {header.metadata.get('format_version')!r} is newer than this "
            f"keraslike reads ({FORMAT_VERSION}); upgrade keraslike.",
        )


def _match(header, targets, what="model"):
    """Returns `(pairs, problems)`: stored entries matched to target tensors by name and shape."""
    stored = {k: v for k, v in header.tensors.items() if not k.startswith(_OPTIMIZER_PREFIX)}
    missing = [k for k in targets if k not in stored]
    unexpected = [k for k in stored if k not in targets]
    mismatched = []
    pairs = []
    for key, target in targets.items():
        info = stored.get(key)
        if info is None:
            continue
        if tuple(info.shape) != tuple(target.shape):
            mismatched.append(
                f"{key}: {tuple(info.shape)} in the file vs {tuple(target.shape)} in the {what}"
            )
            continue
        pairs.append((info, target))
    return pairs, (missing, unexpected, mismatched)


def _match_by_position(header, targets):
    """Pairs stored and model tensors in order when the names differ but the structure agrees.

    Layer names depend on what else was built in the session (`dense_3` instead of `dense`), so,
    as Keras's `load_weights` does, a file from the same architecture loads by position: same
    count, and every shape equal in order. Returns `None` when the structures differ.
    """
    stored = [v for k, v in header.tensors.items() if not k.startswith(_OPTIMIZER_PREFIX)]
    live = list(targets.values())
    if len(stored) != len(live) or any(tuple(s.shape) != tuple(t.shape) for s, t in zip(stored, live)):
        return None
    return list(zip(stored, live))


def _problem_message(problems):
    missing, unexpected, mismatched = problems
    parts = []
    if missing:
        parts.append(f"missing from the file: {missing}")
    if unexpected:
        parts.append(f"in the file but not in the model: {unexpected}")
    if mismatched:
        parts.append("shapes differ: " + "; ".join(mismatched))
    return "; ".join(parts)


def load_weights(model, filepath, skip_mismatch=False):
    """Loads weights from a safetensors file (keys = the model's state_dict keys), in place.

    Raises:
        ValueError: Listing missing, unexpected and mis-shaped weights (unless
            `skip_mismatch=True`, which loads the matching ones and warns).
    """
    header = read_header(filepath)
    if header.metadata.get("format") not in (None, FORMAT, WEIGHTS_FORMAT):
        raise SavedFileError(filepath, f"unknown format {header.metadata.get('format')!r}.")
    targets = weight_tensors(model)
    pairs, problems = _match(header, targets)
    if any(problems[:2]) and not problems[2]:
        positional = _match_by_position(header, targets)
        if positional is not None:
            pairs, problems = positional, ([], [], [])
    if any(problems):
        message = (
            f"The weights in {str(filepath)!r} do not match model {model.name!r}: "
            f"{_problem_message(problems)}."
        )
        if not skip_mismatch:
            raise ValueError(message + " Pass `skip_mismatch=True` to load the weights that match.")
        import warnings

        warnings.warn(message + " Those weights were skipped (skip_mismatch=True).", stacklevel=3)
    with TensorReader(header) as reader:
        for info, target in pairs:
            reader.read_into(info, target)


def _match_or_raise(header, targets, filepath):
    """`_match` by name, else by position; a `SavedFileError` when the tensors do not fit."""
    pairs, problems = _match(header, targets)
    if any(problems[:2]) and not problems[2]:
        # A custom layer whose config has no "name" gets a new default name when rebuilt.
        positional = _match_by_position(header, targets)
        if positional is not None:
            pairs, problems = positional, ([], [], [])
    if any(problems):
        raise SavedFileError(
            filepath,
            "its tensors do not match the model its config describes: "
            f"{_problem_message(problems)}. The file is corrupt or was edited.",
        )
    return pairs


def _build(header, config, custom_objects, safe_mode, filepath):
    """Rebuilds the model: first on `meta`, checked against the file, then given memory.

    Nothing a config names is allocated before every weight's shape has been checked against
    the file's tensors (a 2 KB file cannot ask for `Dense(units=10**9)`).
    """
    def deserialize():
        return keras_objects.deserialize_keras_object(
            config, custom_objects=custom_objects, safe_mode=safe_mode
        )

    try:
        with materialize.skeleton_build():
            model = deserialize()
    except (RuntimeError, NotImplementedError):
        model = None  # a layer whose build needs real values: build it the ordinary way below
    if model is not None:
        targets = weight_tensors(model)
        pairs = _match_or_raise(header, targets, filepath)
        provided = {id(target) for _, target in pairs}
        ok, _ = materialize.check_materializable(model, provided)
        if ok:
            materialize.materialize(model)
            return model
    return deserialize()


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model saved by `save_model` (architecture, weights, compile and optimizer state)."""
    header = read_header(filepath)
    _check_model_file(header)
    config = _metadata_json(header, "model_config")
    if not isinstance(config, dict) or "class_name" not in config:
        raise SavedFileError(filepath, "the 'model_config' metadata is not a serialized model.")
    with registry.custom_object_scope(custom_objects or {}), malformed_config(filepath):
        model = _build(header, config, custom_objects, safe_mode, filepath)
        pairs = _match_or_raise(header, weight_tensors(model), filepath)
        with TensorReader(header) as reader:
            for info, target in pairs:
                reader.read_into(info, target)
            compile_config = _metadata_json(header, "compile_config")
            if compile and compile_config and hasattr(model, "compile_from_config"):
                model.compile_from_config(compile_config)
                _restore_optimizer(model, header, reader)
    return model


def _restore_optimizer(model, header, reader):
    optimizer = getattr(model, "optimizer", None)
    state = _metadata_json(header, "training_state") or {}
    if optimizer is None or not state.get("optimizer_built"):
        return
    if not optimizer.built:
        optimizer.build(model.trainable_weights)  # (learns their Keras layouts)
    stored = {
        k[len(_OPTIMIZER_PREFIX):]: info
        for k, info in header.tensors.items()
        if k.startswith(_OPTIMIZER_PREFIX)
    }
    live = optimizer.get_slot_state()
    if set(stored) != set(live) and len(stored) == len(live) and all(
        tuple(a.shape) == tuple(b.shape) for a, b in zip(stored.values(), live.values())
    ):
        stored = dict(zip(live, stored.values()))  # slot names follow renamed layers: by position
    missing = [k for k in live if k not in stored]
    unexpected = [k for k in stored if k not in live]
    mismatched = [
        f"{k}: {tuple(stored[k].shape)} vs {tuple(t.shape)}"
        for k, t in live.items()
        if k in stored and tuple(stored[k].shape) != tuple(t.shape)
    ]
    if missing or unexpected or mismatched:
        raise SavedFileError(
            header.path,
            f"the optimizer state does not match optimizer {optimizer.name!r}: "
            + _problem_message((missing, unexpected, mismatched)),
        )
    for name, tensor in live.items():
        if name != "iteration":
            reader.read_into(stored[name], tensor)
    # Through the public API, which also updates the optimizer's host-side step count.
    optimizer.set_slot_state({"iteration": reader.read(stored["iteration"])}, strict=False)
