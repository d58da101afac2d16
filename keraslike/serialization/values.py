"""Keras 3's markers for values that JSON cannot hold, and the helpers that read configs back.

`__keras_tensor__`, `__slice__`, `__ellipsis__`, `__bytes__`, `__numpy__` and `__tensor__` are
Keras's; keraslike adds `__tuple__` and `__torch_dtype__` for the arguments of op nodes.
"""

import numpy as np
import torch

from keraslike.graph.keras_tensor import KerasTensor


def serialize_special(obj):
    """Returns the marker dict (or plain value) for a special value, or `None` for other objects."""
    if isinstance(obj, KerasTensor):
        history = obj._keras_history
        if history is not None:
            history = [history[0].name, history[1], history[2]]
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": tuple(obj.shape), "dtype": obj.dtype, "keras_history": history},
        }
    if isinstance(obj, slice):
        return {
            "class_name": "__slice__",
            "config": {
                "start": _plain(obj.start),
                "stop": _plain(obj.stop),
                "step": _plain(obj.step),
            },
        }
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, torch.dtype):
        return {"class_name": "__torch_dtype__", "config": {"value": str(obj).replace("torch.", "")}}
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, torch.Tensor):
        dtype = str(obj.dtype).replace("torch.", "")
        return {
            "class_name": "__tensor__",
            "config": {"value": obj.detach().cpu().tolist(), "dtype": dtype},
        }
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, np.generic):
        return obj.item()
    return None


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    special = serialize_special(value)
    return value if special is None else special


def strip_shared_ids(value):
    """Returns `value` without the `shared_object_id` keys Keras adds to configs."""
    if isinstance(value, dict):
        return {k: strip_shared_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [strip_shared_ids(v) for v in value]
    return value


def to_shape(value):
    """JSON lists back to shape tuples: `[None, 3]` -> `(None, 3)`, nested lists element-wise."""
    if isinstance(value, (list, tuple)):
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
            return tuple(value)
        return [to_shape(v) for v in value]
    if isinstance(value, dict):
        return {k: to_shape(v) for k, v in value.items()}
    return value


def deserialize_value(value):
    """Decodes the special markers in a plain value (node arguments); leaves objects alone."""
    if isinstance(value, list):
        return [deserialize_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(deserialize_value(v) for v in value)
    if not isinstance(value, dict):
        return value
    class_name = value.get("class_name")
    config = value.get("config")
    if class_name == "__slice__":
        return slice(
            deserialize_value(config["start"]),
            deserialize_value(config["stop"]),
            deserialize_value(config["step"]),
        )
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__tuple__":
        return tuple(deserialize_value(v) for v in config["value"])
    if class_name == "__bytes__":
        return config["value"].encode("utf-8")
    if class_name == "__torch_dtype__":
        dtype = getattr(torch, str(config["value"]), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"Unknown torch dtype {config['value']!r} in a saved config.")
        return dtype
    if class_name == "__numpy__":
        return np.array(config["value"], dtype=str(config["dtype"]))
    if class_name == "__tensor__":
        dtype = getattr(torch, str(config["dtype"]), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"Unknown tensor dtype {config['dtype']!r} in a saved config.")
        return torch.tensor(config["value"], dtype=dtype, device="cpu")
    if class_name is None:
        return {k: deserialize_value(v) for k, v in value.items()}
    return value
