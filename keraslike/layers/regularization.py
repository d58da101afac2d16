"""Regularization layers: Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
AlphaDropout, ActivityRegularization.

All noise layers are the identity at inference; training mode is `training=True` when given,
else the layer's `self.training` (set by `model.train()` and `fit`).

Seeds, as Keras 3's torch backend: a layer given a `seed` owns a `SeedGenerator(seed)`
(`layer.seed_generator`, its state a buffer of the layer) and draws each mask or noise tensor
from a `torch.Generator` seeded with the generator's next seed, with Keras's calls: two fresh
layers with the same seed give the same masks, which are Keras's own on the same device. An
unseeded layer draws from torch's global generator (`F.dropout`, the fast path Keras also takes
for unseeded Dropout; `keras.utils.set_random_seed` seeds it); it holds a `SeedGenerator` too,
outside the module tree, so that `layer.variables` lists a `seed_generator_state` as Keras's does.
"""

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from keraslike import regularizers
from keraslike.backend import config as backend_config
from keraslike.backend.errors import ArgumentTypeError
from keraslike.graph.layout import to_channels_first, to_channels_last
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.random.random import _generator
from keraslike.random.seed_generator import SeedGenerator, hold_unsaved


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

    _keras_call_training_default = False  # Keras records training=False in its nodes

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(self, rate, upper_open=False)
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        _init_seed(self, seed, rate)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training is None:
            training = self.training
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, True)
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))
        return _masked(self, inputs, shape)

    # graph/layout.py: a per-sample mask (noise_shape `(None, 1, ..., 1)`, EfficientNet's
    # stochastic depth) is the same in both layouts; other masks keep channels-last draws.
    _layout_free = True

    def _channels_first_call(self, rank):
        shape = self.noise_shape
        if shape is None or len(shape) != rank or any(n != 1 for n in shape[1:]):
            return None
        return self._call_channels_first

    def _call_channels_first(self, inputs, training=None):
        if self._channels_first_call(inputs.ndim) is None:  # noise_shape set since the plan compiled
            outputs = self.call(inputs.permute(to_channels_last(inputs.ndim)), training)
            return outputs.permute(to_channels_first(inputs.ndim))
        return self.call(inputs, training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


def _check_rate(layer, rate, argument="rate", upper_open=True):
    """Raises a ValueError naming the layer unless `rate` is a number in [0, 1) (or [0, 1])."""
    ok = isinstance(rate, numbers.Real) and not isinstance(rate, (bool, np.bool_))
    ok = ok and (0 <= rate < 1 if upper_open else 0 <= rate <= 1)
    if not ok:
        interval = "[0, 1)" if upper_open else "[0, 1]"
        # Keras's comparison of a non-number with 0 raises TypeError: ours is one too.
        error = ValueError if isinstance(rate, numbers.Real) else ArgumentTypeError
        raise error(
            f'Invalid value received for argument `{argument}` of layer "{layer.name}". '
            f"Expected a float value in {interval}. Received: {argument}={rate}"
        )


def _check_seed(layer, seed):
    """Raises Keras's ValueError (naming the layer) unless `seed` is None or an integer."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(
            f'Argument `seed` must be an integer. Received: seed={seed!r} (layer "{layer.name}")'
        )


def _init_seed(layer, seed, amount):
    """Stores `seed`; a layer that draws anything (`amount > 0`) gets its own `SeedGenerator`,
    as Keras's, listed in `layer.variables` as Keras lists it.

    A seeded layer's generator is a child module: its state is saved with the layer
    (`state_dict()` key `seed_generator.state`). An unseeded layer draws from torch's global
    generator instead, so its generator (made as Keras makes it, taking a seed from Python's
    `random` and a name, so that later initializers and generators get Keras's seeds and names)
    is kept out of the module tree: nothing to save, and its `state_dict()` and buffers are
    those of a layer without one.
    """
    _check_seed(layer, seed)
    layer.seed = seed
    if amount > 0:
        if seed is not None:
            layer.seed_generator = SeedGenerator(seed)
        else:
            hold_unsaved(layer, "seed_generator", SeedGenerator())


def _torch_generator(layer, device):
    """The generator of one draw: the layer's next seed (Keras's `torch_seed_generator`), or
    `None` (torch's global generator) for an unseeded layer. Reading the seed state is a host
    read (the state stays on the CPU), never a device sync."""
    if layer.seed is None:
        return None
    return _generator(layer.seed_generator, device)


def _masked(layer, inputs, noise_shape):
    """Keras's seeded dropout: a Bernoulli keep mask of `noise_shape` (broadcast), kept units
    divided by the keep probability."""
    keep_prob = 1.0 - layer.rate
    if keep_prob == 0.0:
        return torch.zeros_like(inputs)
    probabilities = torch.full(tuple(noise_shape), keep_prob, device=inputs.device)
    mask = torch.bernoulli(probabilities, generator=_torch_generator(layer, inputs.device))
    mask = torch.broadcast_to(mask.bool(), inputs.shape)
    return torch.where(mask, inputs / keep_prob, torch.zeros_like(inputs))


def _resolve_training(layer, training):
    return layer.training if training is None else training


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one Bernoulli draw per (example, channel)."""

    _rank = None

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)  # rate in [0, 1], as Keras's Dropout
        self.data_format = backend_config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _noise_shape(self, inputs):
        n, ndim = inputs.shape[0], inputs.ndim
        if self.data_format == "channels_first":
            return (n, inputs.shape[1]) + (1,) * (ndim - 2)
        return (n,) + (1,) * (ndim - 2) + (inputs.shape[-1],)

    def call(self, inputs, training=None):
        if not _resolve_training(self, training) or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        if self.seed is not None:
            return _masked(self, inputs, self._noise_shape(inputs))
        keep = torch.empty(self._noise_shape(inputs), device=inputs.device, dtype=inputs.dtype)
        keep.bernoulli_(1 - self.rate).div_(1 - self.rate)
        return inputs * keep

    def get_config(self):
        # Keras's spatial dropouts return exactly these keys (a plain dtype string, no `trainable`).
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if self._rank != 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole 1D feature maps (channels) of `(batch, steps, channels)` inputs.

    Adjacent timesteps are strongly correlated, so dropping single entries regularizes little;
    this drops entire channels instead (one draw per example and channel), scaling kept ones by
    `1 / (1 - rate)`. Identity at inference.

    Args:
        rate: Float in [0, 1], the fraction of channels to drop.
        seed: Optional integer seed (draws from the layer's own `SeedGenerator`).

    Input shape:
        3D `(samples, timesteps, channels)`. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole 2D feature maps (channels), one draw per example and channel.

    Args:
        rate: Float in [0, 1], the fraction of channels to drop.
        data_format: `"channels_last"` (default: the global image data format) or
            `"channels_first"`.
        seed: Optional integer seed.

    Input shape:
        4D `(samples, rows, cols, channels)` (channels_last). Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole 3D feature maps (channels), one draw per example and channel.

    Args:
        rate: Float in [0, 1], the fraction of channels to drop.
        data_format: `"channels_last"` (default: the global image data format) or
            `"channels_first"`.
        seed: Optional integer seed.

    Input shape:
        5D `(samples, dim1, dim2, dim3, channels)` (channels_last). Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    _rank = 3


class GaussianNoise(Layer):
    """Adds zero-centered Gaussian noise with standard deviation `stddev` during training.

    Identity at inference.

    Args:
        stddev: Float in [0, 1] (Keras's bound), the noise's standard deviation.
        seed: Optional integer seed (draws from the layer's own `SeedGenerator`).

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_call_training_default = False  # Keras records training=False in its nodes

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(self, stddev, "stddev", upper_open=False)
        self.stddev = float(stddev)
        _init_seed(self, seed, stddev)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not _resolve_training(self, training) or self.stddev == 0:
            return inputs
        # Noise in the compute dtype, as Keras (integer inputs give float outputs).
        dtype, device = self._compute_torch_dtype, inputs.device
        if self.seed is not None:
            generator = _torch_generator(self, device)
            noise = torch.normal(0.0, self.stddev, size=tuple(inputs.shape), generator=generator,
                                 dtype=dtype, device=device)
            return inputs + noise
        noise = torch.randn(inputs.shape, dtype=dtype, device=device)
        return inputs + noise * self.stddev

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(Layer):
    """Multiplies inputs by Gaussian noise of mean 1 and stddev `sqrt(rate / (1 - rate))`.

    Identity at inference.

    Args:
        rate: Float in [0, 1), the drop probability of the equivalent Dropout.
        seed: Optional integer seed.

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_call_training_default = False  # Keras records training=False in its nodes

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(self, rate)
        self.rate = float(rate)
        _init_seed(self, seed, rate)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not _resolve_training(self, training) or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        if self.seed is not None:
            generator = _torch_generator(self, inputs.device)
            noise = torch.normal(1.0, stddev, size=tuple(inputs.shape), generator=generator,
                                 dtype=self._compute_torch_dtype, device=inputs.device)
            return inputs * noise
        return inputs * torch.randn_like(inputs).mul_(stddev).add_(1.0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks).

    Dropped units are set to SELU's negative saturation `-alpha * scale`, then an affine map
    `a * x + b` restores zero mean and unit variance. Identity at inference.

    Args:
        rate: Float in [0, 1), the fraction of units to drop.
        noise_shape: Optional shape of the keep mask (`None` entries take the input's size).
        seed: Optional integer seed.

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_call_training_default = False  # Keras records training=False in its nodes

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(self, rate)
        self.rate = float(rate)
        _init_seed(self, seed, rate)
        self.noise_shape = noise_shape
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not _resolve_training(self, training) or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = [s if n is None else n for n, s in zip(self.noise_shape, inputs.shape)]
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        rate = self.rate
        if self.seed is not None:  # Keras's `keras.random.uniform(noise_shape, seed)` draw
            generator = _torch_generator(self, inputs.device)
            uniform = torch.rand(tuple(shape), generator=generator, device=inputs.device,
                                 dtype=torch_dtype(backend_config.floatx()))
        else:
            uniform = torch.rand(shape, device=inputs.device, dtype=inputs.dtype)
        kept = uniform >= rate
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate
        # a * (x * kept + alpha_p * (1 - kept)) + b, as one `where`
        dropped = torch.full((), a * alpha_p + b, dtype=inputs.dtype, device=inputs.device)
        return torch.where(kept, inputs * a + b, dropped)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class ActivityRegularization(Layer):
    """Identity layer that adds an activity penalty `l1 * sum|x| + l2 * sum x**2` (per batch size).

    The penalty appears in `layer.losses` (and the model's loss) after each call.

    Args:
        l1: L1 factor (non-negative float).
        l2: L2 factor (non-negative float).

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
