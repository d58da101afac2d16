"""The `Initializer` base class and the helpers initializers share (dtypes, shapes, fans)."""

import math

import torch

from keraslike.backend.config import floatx


_MODULE = "keras.initializers"

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "float": torch.float32,
    "int": torch.int64,
    "double": torch.float64,
    "half": torch.float16,
}


def _torch_dtype(dtype):
    """Maps `None` (floatx), a Keras dtype string or a `torch.dtype` to a `torch.dtype`."""
    if dtype is None:
        return _DTYPES[floatx()]
    if isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    if name not in _DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected a float or int dtype such as 'float32'.")
    return _DTYPES[name]


def _shape(shape):
    return tuple(int(d) for d in shape)


def compute_fans(shape, input_axes=None, output_axes=None):
    """Computes the number of input and output units of a weight shape (Keras layout).

    Args:
        shape: Integer shape tuple, e.g. `(input_dim, units)` or `(kh, kw, in, out)`.
        input_axes: Optional list of axes whose sizes multiply into the fan-in.
        output_axes: Optional list of axes whose sizes multiply into the fan-out.

    Returns:
        A tuple of integers `(fan_in, fan_out)`. For rank > 2 the receptive field
        `prod(shape[:-2])` multiplies `shape[-2]` (fan-in) and `shape[-1]` (fan-out).

    Example:

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Initializer base class: all initializers inherit from this class.

    Subclasses implement `__call__(self, shape, dtype=None)` returning a tensor of that
    shape, and `get_config()` when they take arguments.

    Example:

    ```python
    class ExampleRandomNormal(keras.initializers.Initializer):
        def __init__(self, mean, stddev):
            self.mean = mean
            self.stddev = stddev

        def __call__(self, shape, dtype=None):
            return torch.normal(self.mean, self.stddev, size=shape)

        def get_config(self):
            return {"mean": self.mean, "stddev": self.stddev}
    ```
    """

    def __call__(self, shape, dtype=None):
        """Returns a tensor of `shape` and `dtype` initialized as specified by the initializer.

        Args:
            shape: Shape of the tensor, in Keras layout.
            dtype: Optional dtype (string or `torch.dtype`); defaults to `keras.config.floatx()`.
        """
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        """Returns the initializer's configuration as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Instantiates an initializer from the output of `get_config()`."""
        return cls(**config)

    def clone(self):
        """Returns a new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
