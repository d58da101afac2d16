"""Cropping and zero-padding layers: Cropping1D/2D/3D, ZeroPadding1D/2D/3D."""

import torch.nn.functional as F

from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import layer_error as _error
from keraslike.layers.layer_utils import standardize_data_format as _data_format
from keraslike.layers.layer_utils import spatial_axes, standardize_tuple


def _pairs(layer, value, rank, name):
    """((before, after), ...) for `rank` spatial dims from an int, `rank` ints or `rank` pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _error(layer, f"`{name}` cannot be negative. Received: {name}={value}")
        return ((value, value),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise _error(
            layer,
            f"`{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of "
            f"2 ints. Received: {name}={value!r}",
        )
    ordinals = ("1st", "2nd", "3rd")
    return tuple(
        standardize_tuple(layer, v, 2, f"{ordinals[i]} entry of {name}", allow_zero=True)
        for i, v in enumerate(value)
    )


class _Cropping(Layer):
    """Crops `cropping[i] = (before, after)` elements off each spatial dimension."""

    _rank = 2

    def _init_cropping(self, cropping, data_format):
        self.data_format = _data_format(self, data_format)
        self._axes = spatial_axes(self.data_format, self._rank)
        self.input_spec = InputSpec(ndim=self._rank + 2)
        self.cropping = cropping

    def _check(self, shape):
        for axis, (before, after) in zip(self._axes, self._pairs()):
            size = shape[axis]
            if size is not None and before + after >= size:
                raise _error(
                    self,
                    "values in `cropping` should be smaller than the corresponding spatial "
                    f"dimension of the input. Received: input_shape={tuple(shape)}, "
                    f"cropping={self.cropping}",
                )

    def _pairs(self):
        return self.cropping

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._axes, self._pairs()):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes, self._pairs()):
            if shape[axis] is not None:
                shape[axis] -= before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        if self._rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(_Cropping):
    """Crops along the time dimension of a `(batch, steps, features)` input.

    Args:
        cropping: Int (both ends) or tuple `(start, end)` of ints >= 0.
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        cropping = standardize_tuple(self, cropping, 2, "cropping", allow_zero=True)
        self._init_cropping(cropping, None)
        self.data_format = "channels_last"
        self._axes = (1,)

    def _pairs(self):
        return (self.cropping,)


class Cropping2D(_Cropping):
    """Crops the rows and columns of an image.

    Args:
        cropping: Int, tuple of 2 ints (symmetric height, width crops) or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` or `"channels_first"`.
    """

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cropping(_pairs(self, cropping, 2, "cropping"), data_format)


class Cropping3D(_Cropping):
    """Crops the three spatial dimensions of a volume.

    Args:
        cropping: Int, tuple of 3 ints or tuple of 3 `(before, after)` pairs.
        data_format: `"channels_last"` or `"channels_first"`.
    """

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cropping(_pairs(self, cropping, 3, "cropping"), data_format)


class _ZeroPadding(Layer):
    """Pads each spatial dimension with `padding[i] = (before, after)` zeros."""

    _rank = 2

    def _init_padding(self, padding, data_format):
        self.data_format = _data_format(self, data_format)
        self.padding = padding
        self.input_spec = InputSpec(ndim=self._rank + 2)
        pairs = self._pairs()
        flat = []
        for before, after in reversed(pairs):
            flat.extend((before, after))
        if self.data_format == "channels_last":
            flat = [0, 0] + flat  # the channel axis comes last
        self._flat = tuple(flat)
        self._axes = spatial_axes(self.data_format, self._rank)

    def _pairs(self):
        return self.padding

    def call(self, inputs):
        return F.pad(inputs, self._flat)

    def _channels_first_call(self, rank):
        # graph/layout.py: `call` on channels-first views (the spatial pads without the channel's).
        if self.data_format != "channels_last" or rank != self._rank + 2:
            return None
        return self._call_channels_first

    def _call_channels_first(self, inputs):
        return F.pad(inputs, self._flat[2:])

    def _foldable_padding(self, rank):
        # graph/layout.py: the per-dim padding a "valid" convolution reading this layer's output
        # may take instead (torch pads both sides alike), or None.
        if self._channels_first_call(rank) is None or any(b != a for b, a in self._pairs()):
            return None
        return tuple(b for b, _ in self._pairs())

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes, self._pairs()):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pads the time dimension with zeros.

    Args:
        padding: Int (both ends) or tuple `(start, end)`.
        data_format: `"channels_last"` (`(batch, steps, features)`) or `"channels_first"`.
    """

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        padding = standardize_tuple(self, padding, 2, "padding", allow_zero=True)
        self._init_padding(padding, data_format)

    def _pairs(self):
        return (self.padding,)


class ZeroPadding2D(_ZeroPadding):
    """Pads the rows and columns of an image with zeros.

    Args:
        padding: Int, tuple of 2 ints or `((top, bottom), (left, right))`.
        data_format: `"channels_last"` or `"channels_first"`.
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._init_padding(_pairs(self, padding, 2, "padding"), data_format)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial dimensions of a volume with zeros.

    Args:
        padding: Int, tuple of 3 ints or tuple of 3 `(before, after)` pairs.
        data_format: `"channels_last"` or `"channels_first"`.
    """

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._init_padding(_pairs(self, padding, 3, "padding"), data_format)
