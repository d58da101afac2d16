"""Rescaling: `inputs * scale + offset`, as Keras 3's `Rescaling`."""

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.layer import Layer


def _serialize_value(value):
    """Keras's serialized form of a number, list or numpy array (arrays as `__numpy__`)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()  # Keras writes a 0-d array as a plain number
    if isinstance(value, np.ndarray):
        return {
            "class_name": "__numpy__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype)},
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        return _serialize_value(value.detach().cpu().numpy())
    return value


def _deserialize_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.array(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


class Rescaling(Layer):
    """Rescales inputs: `outputs = cast(inputs, float) * scale + offset`.

    `scale=1/255` maps `[0, 255]` to `[0, 1]`; `scale=1/127.5, offset=-1` maps it to `[-1, 1]`.
    Integer inputs are cast to the layer's float dtype. `scale`/`offset` may be arrays (for
    example one value per channel); with `keras.config.image_data_format() == "channels_first"`
    a per-channel `scale` is broadcast along the channel axis of `(C, H, W)` images, as in Keras.

    Args:
        scale: Float or array, the factor.
        offset: Float or array, added after scaling.

    Input shape:
        Any. Output shape: same as the input.
    """

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        for argument, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, torch.Tensor):
                continue
            if np.asarray(value).dtype.kind not in "biuf":  # Keras: "Invalid dtype" at the call
                raise ValueError(
                    f'Layer "{self.name}" (Rescaling): `{argument}` must be a number or an array '
                    f"of numbers. Received: {argument}={value!r}"
                )
        dtype = torch_dtype(self.compute_dtype)
        self._scalar_scale = self._as_scalar(scale, dtype)
        self._scalar_offset = self._as_scalar(offset, dtype)
        if self._scalar_scale is None:
            self.register_buffer(
                "_scale_tensor", torch.as_tensor(np.asarray(scale), dtype=dtype), persistent=False
            )
        if self._scalar_offset is None:
            self.register_buffer(
                "_offset_tensor", torch.as_tensor(np.asarray(offset), dtype=dtype), persistent=False
            )

    @staticmethod
    def _as_scalar(value, dtype):
        """The value rounded to the compute dtype, as a Python float, or `None` for arrays."""
        if np.ndim(value) != 0:
            return None
        # On the CPU whatever the default device is (a `meta` default cannot be read).
        return torch.as_tensor(np.asarray(value).item(), dtype=dtype, device="cpu").item()

    def call(self, inputs):
        dtype = torch_dtype(self.compute_dtype)
        if not isinstance(inputs, torch.Tensor):  # a Python list of numbers, as Keras takes
            inputs = torch.as_tensor(np.asarray(inputs), dtype=dtype)
        if inputs.dtype != dtype:
            inputs = inputs.to(dtype)
        if self._scalar_scale is not None:
            scale = self._scalar_scale
        else:
            scale = self._scale_tensor
            if scale.ndim > 0 and backend_config.image_data_format() == "channels_first":
                scale = scale.reshape(tuple(scale.shape) + (1,) * (3 - scale.ndim))
        offset = self._scalar_offset if self._scalar_offset is not None else self._offset_tensor
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"scale": _serialize_value(self.scale), "offset": _serialize_value(self.offset)}
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["scale"] = _deserialize_value(config["scale"])
        config["offset"] = _deserialize_value(config["offset"])
        return cls(**config)
