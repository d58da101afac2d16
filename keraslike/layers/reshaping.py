"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, Cropping1D/2D/3D,
ZeroPadding1D/2D/3D, UpSampling1D/2D/3D."""

import math

import torch.nn.functional as F

from keraslike.backend import config as backend_config
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import layer_error as _error
from keraslike.layers.layer_utils import standardize_data_format as _data_format
from keraslike.layers.layer_utils import standardize_tuple


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


def _spatial_axes(data_format, rank):
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


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


class _Cropping(Layer):
    """Crops `cropping[i] = (before, after)` elements off each spatial dimension."""

    _rank = 2

    def _init_cropping(self, cropping, data_format):
        self.data_format = _data_format(self, data_format)
        self._axes = _spatial_axes(self.data_format, self._rank)
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
        self._axes = _spatial_axes(self.data_format, self._rank)

    def _pairs(self):
        return self.padding

    def call(self, inputs):
        return F.pad(inputs, self._flat)

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
        self._axes = _spatial_axes(self.data_format, self._rank)
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
