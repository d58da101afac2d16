"""TimeDistributed: applies a layer to every temporal slice of an input."""

import torch

from keraslike.layers.layer import Layer, _call_signature
from keraslike.layers.recurrent._serialization import (
    build_sublayer,
    deserialize_layer,
    serialize_layer,
)


def _batch_statistics(layer):
    """Whether `layer` (or a sublayer) normalizes with batch statistics in training."""
    return any("BatchNormalization" in type(m).__name__ for m in layer.modules())


class TimeDistributed(Layer):
    """Applies the same layer to every temporal slice of an input (Keras's `TimeDistributed`).

    The input's axis 1 is time: `(batch, time, ...)`. The time steps are folded into the batch
    and the layer runs once on `(batch * time, ...)` (one kernel call rather than a loop), except
    for layers with batch statistics in training (BatchNormalization), which see one time slice
    at a time as in Keras.

    Args:
        layer: A layer instance.

    Call arguments:
        inputs: `(batch, time, ...)`.
        training: Passed to the layer when it takes it.
        mask: Optional `(batch, time, ...)` bool tensor, passed to the layer when it takes one.

    Example:

    ```python
    x = keras.Input(shape=(10, 16))
    y = keras.layers.TimeDistributed(keras.layers.Dense(8))(x)  # y.shape == (None, 10, 8)
    ```
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self._per_step_in_training = _batch_statistics(layer)

    @staticmethod
    def _child_input_shape(input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        child_shape = self._child_input_shape(tuple(input_shape))
        if not self.layer.built:
            build_sublayer(self.layer, child_shape)
        self.built = True

    def _check_mask(self, inputs, mask):
        if mask.dim() < 2:
            raise ValueError(
                "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                f"`(batch_size, timesteps)`), but it has {mask.dim()} dimension(s) with shape "
                f"{tuple(mask.shape)}."
            )
        if tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(
                f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                f"that is incompatible with the input shape {tuple(inputs.shape)}. The first two "
                "dimensions of the mask (batch size and timesteps) must match the input's first "
                f"two dimensions. Expected mask shape prefix: {tuple(inputs.shape[:2])}."
            )

    def call(self, inputs, training=None, mask=None):
        if training is None:
            training = self.training
        if inputs.dim() < 3:
            self._child_input_shape(tuple(inputs.shape))
        takes_training, takes_mask, _ = _call_signature(type(self.layer))
        if mask is not None:
            self._check_mask(inputs, mask)
        kwargs = {"training": training} if takes_training else {}
        batch, steps = inputs.shape[0], inputs.shape[1]
        if training and self._per_step_in_training:
            outputs = []
            for t in range(steps):
                if takes_mask and mask is not None:
                    kwargs["mask"] = mask[:, t]
                outputs.append(self.layer(inputs[:, t], **kwargs))
            return torch.stack(outputs, dim=1)
        if takes_mask and mask is not None:
            kwargs["mask"] = mask.reshape((batch * steps,) + tuple(mask.shape[2:]))
        outputs = self.layer(inputs.reshape((batch * steps,) + tuple(inputs.shape[2:])), **kwargs)
        return outputs.reshape((batch, steps) + tuple(outputs.shape[1:]))

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)
