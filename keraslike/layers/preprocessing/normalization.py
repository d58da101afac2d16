"""Normalization: `(inputs - mean) / sqrt(variance)` with statistics from `adapt()`, as Keras 3's."""

import itertools
import math

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.layer import Layer


def _first_of(batch):
    """The inputs of a batch: `x` from `(x, y)` or `(x, y, sample_weight)` (tuples, or the
    lists a `DataLoader` yields)."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def _as_float_tensor(data, dtype=None):
    tensor = torch.as_tensor(data)
    if dtype is not None:
        return tensor.to(dtype)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    return tensor


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance per feature.

    `outputs = (inputs - mean) / max(sqrt(variance), epsilon)` (or, with `invert=True`,
    `mean + inputs * max(sqrt(variance), epsilon)`). The statistics are either given (`mean`,
    `variance`) or computed by `adapt(data)`; adapted statistics are the layer's non-trainable
    weights `mean`, `variance`, `count` (Keras's), stored as buffers `adapt_mean`,
    `adapt_variance`, `count`.

    Args:
        axis: Axis or axes that keep their own statistics (default `-1`, the features);
            `None` for one mean and variance over everything.
        mean: Optional mean (scalar or array broadcastable to the kept axes).
        variance: Optional variance, given together with `mean`.
        invert: Whether to undo the normalization instead.

    Example:

    ```python
    layer = keras.layers.Normalization()
    layer.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
    layer(np.array([[0.0, 7.0]]))  # [[-1., -1.]]
    ```
    """

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        where = f'Layer "{self.name}" (Normalization)'
        if (mean is not None) != (variance is not None):
            raise ValueError(
                f"{where}: when setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    f"{where}: when setting values directly, `mean` and `variance` must have "
                    f"the same shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    f"{where}: the rank of `mean` must be less than or equal to the number of "
                    f"axes ({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}"
                )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        where = f'Layer "{self.name}" (Normalization)'
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"{where}: all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(d if d >= 0 else d + ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"{where}: all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={input_shape}, with unknown axis "
                    f"at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(
            input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)
        )
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        dtype = torch_dtype(self.compute_dtype)
        if self.input_mean is None:
            self.add_weight(
                shape=self._mean_and_var_shape,
                initializer="zeros",
                trainable=False,
                name="mean",
                torch_name="adapt_mean",
            )
            self.add_weight(
                shape=self._mean_and_var_shape,
                initializer="ones",
                trainable=False,
                name="variance",
                torch_name="adapt_variance",
            )
            self.add_weight(
                shape=(), dtype="int32", initializer="zeros", trainable=False, name="count"
            )
        else:
            mean = torch.as_tensor(np.asarray(self.input_mean), dtype=dtype)
            variance = torch.as_tensor(np.asarray(self.input_variance), dtype=dtype)
            if mean.ndim > 0:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            # Constants from the config, not weights: they follow `.to()` but stay out of
            # `state_dict()` and `get_weights()`, as in Keras.
            self.register_buffer(
                "_fixed_mean", mean.expand(self._broadcast_shape).contiguous(), persistent=False
            )
            self.register_buffer(
                "_fixed_variance",
                variance.expand(self._broadcast_shape).contiguous(),
                persistent=False,
            )
        self.built = True

    @property
    def mean(self):
        """The mean, broadcastable against the inputs (`None` before the layer is built)."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return self._fixed_mean
        return self.adapt_mean.view(self._broadcast_shape)

    @property
    def variance(self):
        """The variance, broadcastable against the inputs (`None` before the layer is built)."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return self._fixed_variance
        return self.adapt_variance.view(self._broadcast_shape)

    def adapt(self, data):
        """Computes the mean and variance of `data` along the non-kept axes, as Keras does.

        Args:
            data: A numpy array, a torch tensor, or an iterable of batches (arrays or tensors,
                or `(x, y)` tuples whose `x` is used). Batches are combined with Keras's
                running (weighted) mean and variance update.

        Raises:
            ValueError: For an empty iterable or data whose kept axes do not match the layer.
            TypeError: For other kinds of data.
        """
        if isinstance(data, (np.ndarray, torch.Tensor)):
            self._refuse_strings(data)
            input_shape = tuple(data.shape)
        elif hasattr(data, "__iter__"):
            data_iter = iter(data)
            first = next(data_iter, None)
            if first is None:
                raise ValueError(
                    f'Layer "{self.name}": adapt() received an empty iterable (no batches). '
                    "Expected at least one batch."
                )
            first = _first_of(first)
            if not hasattr(first, "shape"):
                raise TypeError(
                    f'Layer "{self.name}": adapt() expects an iterable that yields arrays or '
                    f"tensors with a `.shape`. Got an element of type {type(first).__name__}."
                )
            input_shape = tuple(first.shape)
            data = itertools.chain([first], data_iter)
        else:
            raise TypeError(
                f'Layer "{self.name}": unsupported data type for adapt(): {type(data)}. '
                "It supports numpy arrays, torch tensors and iterables of batches."
            )
        if not self.built:
            self.build(input_shape)
            self._build_shapes = {"input_shape": input_shape}
        else:
            self._check_adapt_shape(input_shape)
        if self.input_mean is not None:
            raise ValueError(
                f'Layer "{self.name}": adapt() cannot be used when `mean` and `variance` were '
                "given to the constructor."
            )
        dtype = torch_dtype(self.compute_dtype)
        if isinstance(data, np.ndarray):
            total_mean = np.mean(data, axis=self._reduce_axis)
            total_var = np.var(data, axis=self._reduce_axis)
        elif isinstance(data, torch.Tensor):
            total_mean, total_var = self._moments(_as_float_tensor(data))
        else:
            total_mean = torch.zeros(self._mean_and_var_shape, dtype=dtype)
            total_var = torch.zeros(self._mean_and_var_shape, dtype=dtype)
            total_count = 0
            for batch in data:
                batch = _first_of(batch)
                self._refuse_strings(batch)
                batch = _as_float_tensor(batch, dtype=dtype)
                self._check_adapt_shape(tuple(batch.shape))
                batch_mean, batch_var = self._moments(batch)
                batch_count = math.prod(batch.shape[d] for d in self._reduce_axis)
                total_count += batch_count
                batch_weight = float(batch_count) / total_count
                existing_weight = 1.0 - batch_weight
                new_mean = total_mean * existing_weight + batch_mean * batch_weight
                total_var = (total_var + (total_mean - new_mean) ** 2) * existing_weight + (
                    batch_var + (batch_mean - new_mean) ** 2
                ) * batch_weight
                total_mean = new_mean
        with torch.no_grad():
            self.adapt_mean.copy_(torch.as_tensor(total_mean).reshape(self._mean_and_var_shape))
            self.adapt_variance.copy_(
                torch.as_tensor(total_var).reshape(self._mean_and_var_shape)
            )

    def _refuse_strings(self, data):
        if not isinstance(data, np.ndarray) or data.dtype.kind not in ("U", "S", "O"):
            return
        if data.dtype.kind in ("U", "S") or any(isinstance(v, (str, bytes)) for v in data.flat):
            text = repr(data)
            raise ValueError(
                f'Layer "{self.name}" (Normalization) takes numbers, but adapt() received '
                f"strings or Python objects (dtype {data.dtype}). Received: "
                f"data={text if len(text) < 80 else text[:77] + '...'}"
            )

    def _check_adapt_shape(self, shape):
        for d in self._keep_axis:
            if d >= len(shape) or shape[d] != self._build_input_shape[d]:
                raise ValueError(
                    f'Layer "{self.name}" was built with input_shape={self._build_input_shape}, '
                    f"but adapt() is being called with data with an incompatible shape, "
                    f"data.shape={shape}"
                )

    def _moments(self, tensor):
        if not self._reduce_axis:
            return tensor, torch.zeros_like(tensor)
        mean = torch.mean(tensor, dim=self._reduce_axis)
        var = torch.var(tensor, dim=self._reduce_axis, correction=0)
        return mean, var

    def call(self, inputs):
        dtype = torch_dtype(self.compute_dtype)
        if inputs.dtype != dtype:
            inputs = inputs.to(dtype)
        mean, variance = self.mean, self.variance
        std = torch.clamp(torch.sqrt(variance), min=backend_config.epsilon())
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist(),
            }
        )
        return config
