"""Initializers with fixed values: `Constant`, `Zeros`, `Ones`, `Identity`."""

import numpy as np
import torch

from keraslike.initializers.initializer import Initializer, _shape, _torch_dtype
from keraslike.serialization.values import deserialize_value, serialize_special


class Constant(Initializer):
    """Initializer that generates tensors with a constant value.

    Args:
        value: A Python scalar, or an array (NumPy array, tensor or nested list) that fills the
            weight, broadcast to its shape as Keras does.

    Example:

    >>> initializer = Constant(10.0)
    >>> values = initializer(shape=(2, 2))
    >>> initializer = Constant(np.arange(6.0).reshape(2, 3))
    >>> values = initializer(shape=(2, 3))
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _torch_dtype(dtype)
        value = self.value
        if isinstance(value, (bool, int, float)):
            return torch.full(shape, value, dtype=dtype)
        if not isinstance(value, torch.Tensor):
            value = torch.from_numpy(np.array(value))
        value = value.detach().to(device="cpu", dtype=dtype)
        try:
            return value.expand(shape).clone()
        except RuntimeError:
            raise ValueError(
                f"Constant initializer: a value of shape {tuple(value.shape)} cannot fill a "
                f"weight of shape {shape} (it must broadcast to it)."
            ) from None

    def get_config(self):
        value = self.value
        if isinstance(value, (np.generic, np.ndarray, torch.Tensor)) and not getattr(value, "ndim", 0):
            value = value.item()
        elif isinstance(value, (np.ndarray, torch.Tensor)):
            value = serialize_special(value)  # Keras's `__numpy__` / `__tensor__` marker
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["value"] = deserialize_value(config.get("value", 0.0))
        return cls(**config)


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0.

    Example:

    >>> initializer = Zeros()
    >>> values = initializer(shape=(2, 2))
    """

    def __call__(self, shape, dtype=None):
        return torch.zeros(_shape(shape), dtype=_torch_dtype(dtype))


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1.

    Example:

    >>> initializer = Ones()
    >>> values = initializer(shape=(2, 2))
    """

    def __call__(self, shape, dtype=None):
        return torch.ones(_shape(shape), dtype=_torch_dtype(dtype))


class Identity(Initializer):
    """Initializer that generates the identity matrix (2D shapes only; non-square gives `eye(n, m)`).

    Args:
        gain: Multiplicative factor applied to the identity matrix.

    Example:

    >>> initializer = Identity()
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_torch_dtype(dtype))

    def get_config(self):
        # Keras 3 returns an empty config here (so `gain` does not survive a round trip there).
        return {}
