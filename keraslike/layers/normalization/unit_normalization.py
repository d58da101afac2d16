"""`UnitNormalization`."""

import torch

from keraslike.layers.layer import Layer
from keraslike.layers.normalization.normalization_utils import _check_axes


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis`: `x * min(rsqrt(sum(x**2)), 1e12)`.

    Args:
        axis: Integer or list of integers, the axes to normalize over (default `-1`).

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f'Invalid value for argument `axis` of layer "{self.name}": expected an int or a '
                f"list/tuple of ints. Received: axis={axis!r}"
            )
        self.supports_masking = True

    def build(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        self.built = True

    def call(self, inputs):
        dims = self.axis if isinstance(self.axis, list) else [self.axis]
        square_sum = torch.sum(inputs * inputs, dim=dims, keepdim=True)
        return inputs * torch.clamp_max(torch.rsqrt(square_sum), 1e12)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
