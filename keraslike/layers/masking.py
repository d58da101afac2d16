"""Masking: marks timesteps equal to `mask_value` everywhere as padding."""

import numbers

import torch

from keraslike.layers.layer import Layer


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`.

    The output is the input with masked timesteps set to 0 (`where(keep, x, 0)`, as Keras), and
    the layer produces the boolean mask `any(x != mask_value, axis=-1)` of shape
    `(batch, timesteps)` for downstream mask-consuming layers (RNNs, attention, losses).

    Args:
        mask_value: The padding value (default 0.0).

    Input shape:
        `(batch, timesteps, features)` (any rank >= 2). Output shape: same as the input.

    Example:

    ```python
    x = keras.Input(shape=(10, 8))
    y = keras.layers.Masking(mask_value=0.0)(x)  # timesteps of all zeros are skipped downstream
    ```
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            # Keras fails at the call ("Invalid dtype"); a non-number can never match a value.
            raise ValueError(
                f'Layer "{self.name}" (Masking): `mask_value` must be a number. '
                f"Received: mask_value={mask_value!r}"
            )
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        # torch functions, so this also records graph ops when `inputs` is symbolic.
        return torch.any(torch.ne(inputs, self.mask_value), dim=-1)

    def call(self, inputs):
        keep = torch.any(torch.ne(inputs, self.mask_value), dim=-1, keepdim=True)
        return torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
