"""Compile arguments to and from JSON-safe configs (Keras 3's `get_compile_config` schema)."""

from keraslike import losses as losses_module
from keraslike import metrics as metrics_module
from keraslike import optimizers as optimizers_module


def _serialize_entry(value, module):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {k: _serialize_entry(v, module) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_entry(v, module) for v in value]
    if hasattr(value, "get_config"):
        return module.serialize(value)
    name = getattr(value, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize compile argument {value!r}.")
    return name


def _deserialize_entry(value, module, custom_objects=None):
    if value is None or isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "class_name" in value:
        return module.deserialize(value, custom_objects=custom_objects)
    if isinstance(value, dict):
        return {k: _deserialize_entry(v, module, custom_objects) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_deserialize_entry(v, module, custom_objects) for v in value]
    return value


def serialize_compile_config(config, optimizer):
    """Returns the compile config with the optimizer, losses and metrics serialized."""
    return {
        "optimizer": optimizers_module.serialize(optimizer),
        "loss": _serialize_entry(config["loss"], losses_module),
        "loss_weights": config["loss_weights"],
        "metrics": _serialize_entry(config["metrics"], metrics_module),
        "weighted_metrics": _serialize_entry(config["weighted_metrics"], metrics_module),
        "run_eagerly": config["run_eagerly"],
        "steps_per_execution": config["steps_per_execution"],
        "jit_compile": config["jit_compile"] is True,
    }


def deserialize_compile_config(config, custom_objects=None):
    """Returns `compile(**kwargs)` arguments from `serialize_compile_config` output."""
    return {
        "optimizer": optimizers_module.deserialize(config["optimizer"], custom_objects=custom_objects)
        if isinstance(config.get("optimizer"), dict)
        else config.get("optimizer", "rmsprop"),
        "loss": _deserialize_entry(config.get("loss"), losses_module, custom_objects),
        "loss_weights": config.get("loss_weights"),
        "metrics": _deserialize_entry(config.get("metrics"), metrics_module, custom_objects),
        "weighted_metrics": _deserialize_entry(config.get("weighted_metrics"), metrics_module, custom_objects),
        "run_eagerly": config.get("run_eagerly", False),
        "steps_per_execution": config.get("steps_per_execution", 1),
        "jit_compile": config.get("jit_compile", False),
    }
