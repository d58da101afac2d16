"""Reshaping layers: Flatten, Reshape."""

import math

from keraslike.backend import config as backend_config
from keraslike.layers.layer import Layer


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

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if sum(1 for d in self.target_shape if d == -1) > 1:
            raise ValueError(
                f"There can only be one unknown dimension (-1) in `target_shape`. "
                f"Received: target_shape={self.target_shape}"
            )

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

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
