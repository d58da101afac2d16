"""Optimizers (`keras.optimizers`): Keras 3's optimizers, updating torch tensors in place.

Every optimizer works two ways:

- Keras style: `optimizer.apply_gradients(zip(grads, variables))` or
  `optimizer.apply(grads, variables)`, which build the optimizer on first use.
- PyTorch style: `optimizer.build(list(model.parameters()))` once, then `loss.backward()`,
  `optimizer.step()`, `optimizer.zero_grad()` each step.
"""

import inspect

from keraslike.optimizers import _serialization
from keraslike.optimizers import legacy, schedules
from keraslike.optimizers.adafactor import Adafactor
from keraslike.optimizers.adagrad import Adadelta, Adagrad
from keraslike.optimizers.adam import Adam, AdamW
from keraslike.optimizers.adamax import Adamax
from keraslike.optimizers.ftrl import Ftrl
from keraslike.optimizers.lamb import Lamb
from keraslike.optimizers.lion import Lion
from keraslike.optimizers.loss_scale_optimizer import LossScaleOptimizer
from keraslike.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from keraslike.optimizers.muon import Muon
from keraslike.optimizers.nadam import Nadam
from keraslike.optimizers.optimizer import Optimizer
from keraslike.optimizers.rmsprop import RMSprop
from keraslike.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from keraslike.optimizers.sgd import SGD

_BUILTIN_OPTIMIZERS = (Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Ftrl, Lamb, Lion,
                       LossScaleOptimizer, Muon, MultiOptimizer, Nadam, RMSprop, SGD,
                       ScheduleFreeAdamW)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in _BUILTIN_OPTIMIZERS}
_serialization.OPTIMIZER_CLASSES.update(ALL_OBJECTS_DICT)


def serialize(optimizer):
    """Returns the configuration of an optimizer in Keras 3's serialized format.

    Args:
        optimizer: An `Optimizer` instance.

    Returns:
        A JSON-safe dict `{"module": "keras.optimizers", "class_name": "Adam", "config": {...},
        "registered_name": None}` (a custom registered class gets its own module and
        registered name).

    Example:

    >>> keras.optimizers.serialize(keras.optimizers.SGD())["class_name"]
    'SGD'
    """
    return _serialization.serialize_object(optimizer, "keras.optimizers", _BUILTIN_OPTIMIZERS)


def deserialize(config, custom_objects=None):
    """Returns an optimizer from its serialized configuration.

    Built-in class names are matched case-insensitively (`"adam"`, `"Adam"`). Configs written
    by Keras 3 itself (any backend) are accepted.

    Args:
        config: A dict as returned by `serialize()`.
        custom_objects: Optional dict mapping names to custom optimizer classes (and to custom
            schedules or functions used as learning rates).

    Returns:
        An `Optimizer` instance.

    Example:

    >>> opt = keras.optimizers.deserialize(
    ...     {"class_name": "Adam", "config": {"learning_rate": 0.01}})
    """
    cls = _serialization.resolve_class(config, ALL_OBJECTS_DICT, custom_objects, "optimizer")
    inner = dict(config.get("config") or {})
    if "custom_objects" in inspect.signature(cls.from_config).parameters:
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)


def get(identifier):
    """Retrieves an optimizer from a name, a config, a class or an instance.

    Args:
        identifier: One of: a string name (`"adam"`, `"RMSprop"`, `"sgd"`, ...; built-in
            optimizers are created with their defaults), a dict config as from `serialize()`,
            an `Optimizer` subclass (instantiated with its defaults), an `Optimizer` instance
            (returned unchanged), or `None` (returns `None`).

    Returns:
        An `Optimizer` instance, or `None`.

    Raises:
        ValueError: When the identifier names no known optimizer.

    Example:

    >>> keras.optimizers.get("adam").get_config()["learning_rate"]
    0.0010000000474974513
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": identifier, "config": {}})
    elif isinstance(identifier, type) and issubclass(identifier, Optimizer):
        obj = identifier()
    else:
        obj = None
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "Adafactor",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Muon",
    "MultiOptimizer",
    "Nadam",
    "Optimizer",
    "OptimizerMap",
    "RMSprop",
    "ScheduleFreeAdamW",
    "deserialize",
    "get",
    "legacy",
    "schedules",
    "serialize",
]
