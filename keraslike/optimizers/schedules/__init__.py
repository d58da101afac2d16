"""Learning rate schedules: `keras.optimizers.schedules`."""

from keraslike.optimizers import _serialization
from keraslike.optimizers.schedules.learning_rate_schedule import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

_BUILTIN_SCHEDULES = (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
_BY_LOWER_NAME = {cls.__name__.lower(): cls for cls in _BUILTIN_SCHEDULES}


def serialize(learning_rate_schedule):
    """Returns a schedule in Keras 3's serialized format.

    Args:
        learning_rate_schedule: A `LearningRateSchedule` instance.

    Returns:
        A JSON-safe dict: `{"module": "keras.optimizers.schedules", "class_name": ...,
        "config": {...}, "registered_name": None}`.

    Example:

    >>> keras.optimizers.schedules.serialize(ExponentialDecay(0.1, 10, 0.9))["class_name"]
    'ExponentialDecay'
    """
    return _serialization.serialize_object(
        learning_rate_schedule, "keras.optimizers.schedules", _BUILTIN_SCHEDULES
    )


def deserialize(config, custom_objects=None):
    """Returns a schedule from its Keras 3 serialized form.

    Args:
        config: A dict as returned by `serialize()` (Keras's or keraslike's).
        custom_objects: Optional dict mapping names to custom schedule classes.

    Returns:
        A `LearningRateSchedule` instance.

    Example:

    >>> s = deserialize(serialize(ExponentialDecay(0.1, 10, 0.9)))
    """
    cls = _serialization.resolve_class(config, _BY_LOWER_NAME, custom_objects, "schedule")
    return cls.from_config(dict(config.get("config") or {}))


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]
