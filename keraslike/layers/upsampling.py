"""Upsampling layers: UpSampling1D/2D/3D."""

import torch.nn.functional as F

from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import layer_error as _error
from keraslike.layers.layer_utils import standardize_data_format as _data_format
from keraslike.layers.layer_utils import spatial_axes, standardize_tuple


class UpSampling1D(Layer):
    """Repeats each time step `size` times: `(batch, steps, f)` -> `(batch, steps * size, f)`.

    Args:
        size: Positive integer, the upsampling factor.
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(
                f'UpSampling1D layer "{self.name}": expected an integer value for `size`, '
                f"got {type(size)}."
            )
        if size <= 0:
            raise _error(
                self, f"argument `size` should be a positive integer. Received: size={size}"
            )
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return inputs.repeat_interleave(self.size, dim=1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


_INTERPOLATIONS = {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic"}


class _UpSampling(Layer):
    _rank = 2

    def _init_upsampling(self, size, data_format):
        self.data_format = _data_format(self, data_format)
        self.size = standardize_tuple(self, size, self._rank, "size")
        self.input_spec = InputSpec(ndim=self._rank + 2)
        self._axes = spatial_axes(self.data_format, self._rank)
        self._mode = "nearest-exact"
        r = self._rank
        self._cf = (0, r + 1) + tuple(range(1, r + 1))
        self._cl = (0,) + tuple(range(2, r + 2)) + (1,)

    def call(self, inputs):
        channels_last = self.data_format == "channels_last"
        x = inputs.permute(self._cf) if channels_last else inputs
        size = tuple(n * f for n, f in zip(x.shape[2:], self.size))
        if self._mode == "nearest-exact":
            y = F.interpolate(x, size=size, mode=self._mode)
        else:
            y = F.interpolate(x, size=size, mode=self._mode, align_corners=False)
        return y.permute(self._cl) if channels_last else y

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(self._axes, self.size):
            if shape[axis] is not None:
                shape[axis] *= factor
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config


class UpSampling2D(_UpSampling):
    """Upsamples images by integer factors: nearest (repetition), bilinear or bicubic.

    Bilinear/bicubic use half-pixel centers without antialiasing (`align_corners=False`),
    as Keras's `ops.image.resize` does on torch.

    Args:
        size: Int or tuple of 2 ints, the row and column factors.
        data_format: `"channels_last"` or `"channels_first"`.
        interpolation: `"nearest"` (default), `"bilinear"` or `"bicubic"`.

    Example:

    ```python
    x = keras.Input(shape=(8, 8, 3))
    y = keras.layers.UpSampling2D(2, interpolation="bilinear")(x)  # (None, 16, 16, 3)
    ```
    """

    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self._init_upsampling(size, data_format)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in _INTERPOLATIONS:
            raise _error(
                self,
                f"`interpolation` must be one of {tuple(_INTERPOLATIONS)}. "
                f"Received: interpolation={interpolation!r}",
            )
        self._mode = _INTERPOLATIONS[self.interpolation]

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Upsamples volumes by repeating elements along the three spatial dimensions.

    Args:
        size: Int or tuple of 3 ints, the factors.
        data_format: `"channels_last"` or `"channels_first"`.
    """

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._init_upsampling(size, data_format)
