"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector.

Cropping and zero-padding live in `cropping_padding.py`, upsampling in `upsampling.py`; both are
re-exported here (`keraslike.layers.reshaping` keeps every name it had).
"""

import math

import numpy as np

from keraslike.backend import config as backend_config
from keraslike.graph.layout import to_channels_first
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import layer_error as _error


class Flatten(Layer):
    """Flattens each sample to one dimension, in channels-last order (as Keras does).

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`; channels-first inputs
            are moved to channels-last before flattening, so Keras weights stay valid.

    Input shape:
        `(batch_size, ...)`. Output shape: `(batch_size, product of the other dimensions)`.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend_config.standardize_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1).

    Args:
        target_shape: Tuple, the shape without the batch dimension.

    Input shape:
        `(batch_size, ...)`. Output shape: `(batch_size, *target_shape)`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        # NumPy integers (a shape from `np.array`) are plain ints here, as Keras's config has them.
        self.target_shape = tuple(int(d) if isinstance(d, np.integer) else d for d in target_shape)
        if sum(1 for d in self.target_shape if d == -1) > 1:
            raise ValueError(
                f"There can only be one unknown dimension (-1) in `target_shape`. "
                f"Received: target_shape={self.target_shape}"
            )

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def _channels_first_call(self, rank):
        # graph/layout.py: (N, C) -> (N, 1, ..., 1, C), a squeeze-and-excite block's squeeze, is
        # (N, C, 1, ..., 1) channels-first: one reshape, no permute.
        if rank != 2 or not self._to_single_pixel():
            return None
        return self._call_channels_first

    def _to_single_pixel(self):
        shape = self.target_shape
        return len(shape) >= 2 and all(d == 1 for d in shape[:-1])

    def _call_channels_first(self, inputs):
        if not self._to_single_pixel():  # target_shape set since the plan was compiled
            outputs = self.call(inputs)
            return outputs.permute(to_channels_first(outputs.ndim)) if outputs.ndim >= 3 else outputs
        shape = self.target_shape
        return inputs.reshape((inputs.shape[0], shape[-1]) + shape[:-1])

    def compute_output_shape(self, input_shape):
        known = [d for d in self.target_shape if d != -1]
        if -1 not in self.target_shape:
            size_in = None if None in input_shape[1:] else math.prod(input_shape[1:])
            if size_in is not None and size_in != math.prod(self.target_shape):
                raise ValueError(
                    f'Layer "{self.name}" cannot reshape an input of shape {tuple(input_shape)} '
                    f"to target_shape={self.target_shape}: the sizes {size_in} and "
                    f"{math.prod(self.target_shape)} differ."
                )
            return (input_shape[0],) + self.target_shape
        if None in input_shape[1:]:
            missing = None
        else:
            total = math.prod(input_shape[1:])
            if total % math.prod(known) != 0:
                raise ValueError(
                    f'Layer "{self.name}" cannot reshape an input of shape {tuple(input_shape)} '
                    f"to target_shape={self.target_shape}."
                )
            missing = total // math.prod(known)
        return (input_shape[0],) + tuple(missing if d == -1 else d for d in self.target_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch dimensions of the input.

    Args:
        dims: Tuple of ints, a permutation of `1..rank-1` (1 is the first non-batch axis).

    Input shape: `(batch, d1, ..., dn)`. Output shape: `(batch, d_dims[0], ..., d_dims[n-1])`.

    Example: `keras.layers.Permute((2, 1))` swaps the two axes of a `(batch, 10, 64)` input.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise _error(
                self,
                "invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}",
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)
        self._perm = (0,) + self.dims

    def call(self, inputs):
        return inputs.permute(self._perm)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`.

    Args:
        n: Positive integer, the number of repetitions.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(
                f'RepeatVector layer "{self.name}": expected an integer value for `n`, '
                f"got {type(n)}."
            )
        if n <= 0:
            raise _error(self, f"argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


# Re-exported: the families that used to live in this file.
from keraslike.layers.cropping_padding import (  # noqa: E402, F401
    Cropping1D,
    Cropping2D,
    Cropping3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from keraslike.layers.upsampling import (  # noqa: E402, F401
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
)
