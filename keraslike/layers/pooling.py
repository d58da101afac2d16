"""Pooling layers: Max/AveragePooling1D/2D/3D and GlobalMax/GlobalAveragePooling1D/2D/3D.

Channels-last inputs are pooled through channels-first *views* (torch's pooling kernels read
them as channels_last memory format, without a copy). `padding="same"` follows TensorFlow:
the extra padding element goes at the end, max pooling ignores padded positions, and average
pooling divides by the number of real (unpadded) elements of each window.
"""

import torch
import torch.nn.functional as F

from keraslike.graph.layout import to_channels_first, to_channels_last
from keraslike.layers.convolutional.padding import (
    check_output_positive,
    conv_output_length,
    flat_pad,
    same_pads,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer

_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class BasePooling(Layer):
    """Max or average pooling over `pool_dimensions` spatial dimensions.

    Args:
        pool_size: Int or tuple of ints, the window size.
        strides: Int, tuple of ints, or `None` (defaults to `pool_size`).
        pool_dimensions: Number of spatial dimensions (1, 2 or 3).
        pool_mode: `"max"` or `"average"`.
        padding: `"valid"` or `"same"` (case-insensitive; the config keeps what was given).
        data_format: `"channels_last"` or `"channels_first"`.
    """

    def __init__(
        self,
        pool_size,
        strides,
        pool_dimensions,
        pool_mode="max",
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        rank = pool_dimensions
        self.pool_size = standardize_tuple(self, pool_size, rank, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(self, strides, rank, "strides")
        self.pool_mode = pool_mode
        self.padding = padding
        self._padding = standardize_padding(self, padding)
        self.data_format = standardize_data_format(self, data_format)
        self.input_spec = InputSpec(ndim=rank + 2)
        self._rank = rank
        self._channels_last = self.data_format == "channels_last"
        self._cf_perm = to_channels_first(rank + 2)  # rank spatial dims, batch and channels
        self._cl_perm = to_channels_last(rank + 2)
        self._fn = _MAX_POOL[rank] if pool_mode == "max" else _AVG_POOL[rank]

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self._channels_last else tuple(shape[2:])

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def _check(self, input_shape):
        ones = (1,) * self._rank
        check_output_positive(
            self, self._spatial(input_shape), self.pool_size, self.strides, ones,
            self._padding, what="pool_size",
        )  # fmt: skip

    def call(self, inputs):
        x = inputs.permute(self._cf_perm) if self._channels_last else inputs
        outputs = self._call_channels_first(x)
        if self._channels_last:
            outputs = outputs.permute(self._cl_perm)
        return outputs

    def _channels_first_call(self, rank):
        # graph/layout.py: `call` on channels-first views.
        if not self._channels_last or rank != self._rank + 2:
            return None
        return self._call_channels_first

    def _call_channels_first(self, x):
        if self._padding == "same":
            return self._pool_same(x)
        return self._fn(x, self.pool_size, self.strides)

    def _pool_same(self, x):
        pads = [
            same_pads(n, k, s) for n, k, s in zip(x.shape[2:], self.pool_size, self.strides)
        ]
        if all(before == after for before, after in pads):
            padding = tuple(before for before, _ in pads)
            if self.pool_mode == "max":
                return self._fn(x, self.pool_size, self.strides, padding)
            return self._fn(x, self.pool_size, self.strides, padding, count_include_pad=False)
        flat = flat_pad(pads)
        if self.pool_mode == "max":
            return self._fn(F.pad(x, flat, value=float("-inf")), self.pool_size, self.strides)
        # Average of the real elements only: window sums divided by window counts.
        sums = self._fn(F.pad(x, flat), self.pool_size, self.strides)
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        counts = self._fn(F.pad(ones, flat), self.pool_size, self.strides)
        return sums / counts

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(
            conv_output_length(n, k, s, 1, self._padding)
            for n, k, s in zip(self._spatial(input_shape), self.pool_size, self.strides)
        )
        if self._channels_last:
            return (input_shape[0],) + spatial + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + spatial

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "padding": self.padding,
                "strides": self.strides,
                "data_format": self.data_format,
            }
        )
        return config


class MaxPooling1D(BasePooling):
    """Max pooling over temporal data.

    Input shape: 3-D `(batch, steps, channels)` (channels_last)
    or `(batch, channels, steps)`.
    Output shape: same rank; each spatial length `(n - pool) // stride + 1` ("valid") or
    `ceil(n / stride)` ("same"). Arguments: see `BasePooling`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(
            pool_size, strides, pool_dimensions=1, pool_mode="max", padding=padding,
            data_format=data_format, name=name, **kwargs,
        )  # fmt: skip


class MaxPooling2D(BasePooling):
    """Max pooling over 2-D spatial data.

    Input shape: 4-D `(batch, rows, cols, channels)` (channels_last)
    or `(batch, channels, rows, cols)`.
    Output shape: same rank; each spatial length `(n - pool) // stride + 1` ("valid") or
    `ceil(n / stride)` ("same"). Arguments: see `BasePooling`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(
            pool_size, strides, pool_dimensions=2, pool_mode="max", padding=padding,
            data_format=data_format, name=name, **kwargs,
        )  # fmt: skip


class MaxPooling3D(BasePooling):
    """Max pooling over 3-D spatial data.

    Input shape: 5-D `(batch, d1, d2, d3, channels)` (channels_last)
    or `(batch, channels, d1, d2, d3)`.
    Output shape: same rank; each spatial length `(n - pool) // stride + 1` ("valid") or
    `ceil(n / stride)` ("same"). Arguments: see `BasePooling`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(
            pool_size, strides, pool_dimensions=3, pool_mode="max", padding=padding,
            data_format=data_format, name=name, **kwargs,
        )  # fmt: skip


class AveragePooling1D(BasePooling):
    """Average pooling over temporal data.

    Input shape: 3-D `(batch, steps, channels)` (channels_last)
    or `(batch, channels, steps)`.
    Output shape: same rank; each spatial length `(n - pool) // stride + 1` ("valid") or
    `ceil(n / stride)` ("same"). Arguments: see `BasePooling`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(
            pool_size, strides, pool_dimensions=1, pool_mode="average", padding=padding,
            data_format=data_format, name=name, **kwargs,
        )  # fmt: skip


class AveragePooling2D(BasePooling):
    """Average pooling over 2-D spatial data.

    Input shape: 4-D `(batch, rows, cols, channels)` (channels_last)
    or `(batch, channels, rows, cols)`.
    Output shape: same rank; each spatial length `(n - pool) // stride + 1` ("valid") or
    `ceil(n / stride)` ("same"). Arguments: see `BasePooling`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(
            pool_size, strides, pool_dimensions=2, pool_mode="average", padding=padding,
            data_format=data_format, name=name, **kwargs,
        )  # fmt: skip


class AveragePooling3D(BasePooling):
    """Average pooling over 3-D spatial data.

    Input shape: 5-D `(batch, d1, d2, d3, channels)` (channels_last)
    or `(batch, channels, d1, d2, d3)`.
    Output shape: same rank; each spatial length `(n - pool) // stride + 1` ("valid") or
    `ceil(n / stride)` ("same"). Arguments: see `BasePooling`.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(
            pool_size, strides, pool_dimensions=3, pool_mode="average", padding=padding,
            data_format=data_format, name=name, **kwargs,
        )  # fmt: skip


class BaseGlobalPooling(Layer):
    """Max or mean over all spatial dimensions.

    Args:
        pool_dimensions: Number of spatial dimensions.
        data_format: `"channels_last"` or `"channels_first"`.
        keepdims: Whether to keep the spatial dimensions (with length 1).
    """

    _mode = "max"

    def __init__(self, pool_dimensions, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(self, data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        start = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(start, start + pool_dimensions))

    def call(self, inputs):
        if self._mode == "max":
            return torch.amax(inputs, dim=self._axes, keepdim=self.keepdims)
        return torch.mean(inputs, dim=self._axes, keepdim=self.keepdims)

    def _channels_first_call(self, rank):
        # graph/layout.py: `call` on channels-first views (without keepdims the output, (N, C),
        # is the same in both layouts).
        if self.data_format != "channels_last" or rank != len(self._axes) + 2:
            return None
        return self._call_channels_first

    def _call_channels_first(self, inputs):
        axes = tuple(range(2, inputs.ndim))
        if self._mode == "max":
            return torch.amax(inputs, dim=axes, keepdim=self.keepdims)
        return torch.mean(inputs, dim=axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape) - 2
        if self.data_format == "channels_last":
            middle = (1,) * rank if self.keepdims else ()
            return (input_shape[0],) + middle + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + ((1,) * rank if self.keepdims else ())

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Global max pooling over time.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
        keepdims: Keep the spatial dimensions with length 1 (default False).

    Output shape: `(batch, channels)`; with `keepdims`, the input's rank.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=1, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Global max pooling over 2-D spatial data.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
        keepdims: Keep the spatial dimensions with length 1 (default False).

    Output shape: `(batch, channels)`; with `keepdims`, the input's rank.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Global max pooling over 3-D spatial data.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
        keepdims: Keep the spatial dimensions with length 1 (default False).

    Output shape: `(batch, channels)`; with `keepdims`, the input's rank.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=3, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Global average pooling over 2-D spatial data.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
        keepdims: Keep the spatial dimensions with length 1 (default False).

    Output shape: `(batch, channels)`; with `keepdims`, the input's rank.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Global average pooling over 3-D spatial data.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
        keepdims: Keep the spatial dimensions with length 1 (default False).

    Output shape: `(batch, channels)`; with `keepdims`, the input's rank.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=3, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling over time; with a mask, the mean of the unmasked steps only.

    Args:
        data_format: `"channels_last"` (`(batch, steps, features)`) or `"channels_first"`.
        keepdims: Keep the steps dimension with length 1 (default False).

    Call arguments:
        inputs: 3-D tensor.
        mask: Optional `(batch, steps)` boolean mask (True: keep). The output has no mask.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=1, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return torch.mean(inputs, dim=self._axes, keepdim=self.keepdims)
        mask = mask.to(torch.bool).unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = torch.where(mask, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        total = total.sum(dim=self._axes, keepdim=self.keepdims)
        return total / mask.to(inputs.dtype).sum(dim=self._axes, keepdim=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
)
