"""Regularization layers: Dropout."""

import torch
import torch.nn.functional as F

from keraslike.layers.layer import Layer


class Dropout(Layer):
    """Randomly sets input units to 0 with frequency `rate` during training.

    Kept units are scaled by `1 / (1 - rate)`, so inference needs no scaling. Training mode is
    `training=True` when given, else the layer's `self.training` (set by `model.train()` and `fit`).

    Args:
        rate: Float in [0, 1), the fraction of units to drop.
        noise_shape: Optional shape of the binary mask, broadcast to the input (`None` entries
            take the input's size).
        seed: Optional integer seed.

    Input shape:
        Any. Output shape: same as the input.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate}"
            )
        self.rate = rate
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training is None:
            training = self.training
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, True)
        shape = tuple(s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))
        keep = torch.empty(shape, device=inputs.device, dtype=inputs.dtype).bernoulli_(1 - self.rate)
        return inputs * keep / (1 - self.rate)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config
