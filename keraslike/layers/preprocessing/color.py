"""Colour augmentations: RandomContrast, RandomBrightness, Solarization, AutoContrast,
RandomInvert, RandomGrayscale, RandomColorDegeneration (Keras 3's draws and formulas)."""

import torch

from keraslike.layers.preprocessing.augmentation_base import BaseAugmentation, constant

_GRAY = (0.2989, 0.5870, 0.1140)  # Keras's `ops.image.rgb_to_grayscale` weights


def _value_range(layer_name, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"Layer {layer_name}: the `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value_range}"
        )
    return sorted(value_range)


def _rescale(images, original, target):
    if original[0] == target[0] and original[1] == target[1]:
        return images
    images = (images - original[0]) / (original[1] - original[0])
    return images * (target[1] - target[0]) + target[0]


def _grayscale(images, channel_axis):
    weights = constant(_GRAY, images.device, images.dtype)
    shape = [1, 1, 1, 1]
    shape[channel_axis] = 3
    return (images * weights.view(shape)).sum(dim=channel_axis, keepdim=True)


class _ColorAugmentation(BaseAugmentation):
    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _SORT_VALUE_RANGE = True  # Keras keeps RandomContrast's and RandomInvert's as given

    def __init__(self, factor=None, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor=factor, seed=seed, data_format=data_format, **kwargs)
        checked = _value_range(type(self).__name__, value_range)
        self.value_range = checked if self._SORT_VALUE_RANGE else value_range

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


class RandomContrast(_ColorAugmentation):
    """Scales each image's contrast by a random factor in `[1 - lower, 1 + upper]`:
    `(x - mean) * factor + mean`, per channel, clipped to `value_range`.

    Args:
        factor: A float in `[0, 1]` or a pair.
        value_range: The range of the pixel values (default `(0, 255)`).
        seed: Integer seed.
    """

    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, value_range=value_range, seed=seed, **kwargs)

    def get_random_transformation(self, images, seed=None):
        return self.uniform(
            (images.shape[0], 1, 1, 1), 1.0 - self.factor[0], 1.0 + self.factor[1], images.device,
            seed,
        )

    def apply_transformation(self, images, factor):
        h_axis, w_axis = self.spatial_axes
        mean = images.mean(dim=h_axis, keepdim=True).mean(dim=w_axis, keepdim=True)
        out = (images - mean) * factor + mean
        return out.clamp(self.value_range[0], self.value_range[1])


class RandomBrightness(_ColorAugmentation):
    """Adds a random delta (`factor * (value_range[1] - value_range[0])`) to each image.

    Args:
        factor: A float in `[-1, 1]` or a pair `(lower, upper)`.
        value_range: Pixel value range (default `(0, 255)`); outputs are clipped to it.
        seed: Integer seed.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, value_range=value_range, seed=seed, **kwargs)

    def get_random_transformation(self, images, seed=None):
        return self.uniform(
            (images.shape[0], 1, 1, 1), self.factor[0], self.factor[1], images.device, seed
        )

    def apply_transformation(self, images, delta):
        delta = delta * (self.value_range[1] - self.value_range[0])
        return (images + delta).clamp(self.value_range[0], self.value_range[1])


class Solarization(BaseAugmentation):
    """Inverts pixels above a random threshold after adding a random value (Keras's
    `Solarization`): `x = clip(x + a, 0, 255); x if x < t else 255 - x` on the 0-255 scale.

    Args:
        addition_factor: Fraction of 255 added, a float in `[0, 1]` or a pair.
        threshold_factor: Fraction of 255 used as threshold, a float or a pair.
        value_range: Pixel value range (default `(0, 255)`).
        seed: Integer seed.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._factor_range("addition_factor", addition_factor)
        self.threshold_factor = self._factor_range("threshold_factor", threshold_factor)
        self.value_range = _value_range("Solarization", value_range)

    def _factor_range(self, name, factor):
        values = factor if isinstance(factor, (tuple, list)) else (0, factor)
        if len(values) != 2 or any(v > 1.0 or v < 0 for v in values):
            raise ValueError(
                f"Layer Solarization: `{name}` should be a number or a pair of numbers in "
                f"[0, 1]. Received: {name}={factor}"
            )
        return tuple(sorted(values)) if isinstance(factor, (tuple, list)) else (0, factor)

    def get_random_transformation(self, images, seed=None):
        shape = (images.shape[0], 1, 1, 1)
        additions = self.uniform(
            shape, self.addition_factor[0], self.addition_factor[1] * 255, images.device, seed
        )
        thresholds = self.uniform(
            shape, self.threshold_factor[0], self.threshold_factor[1] * 255, images.device, seed
        )
        return additions, thresholds

    def apply_transformation(self, images, transformation):
        additions, thresholds = transformation
        x = _rescale(images, self.value_range, (0, 255))
        x = (x + additions).clamp(0, 255)
        x = torch.where(x < thresholds, x, 255 - x)
        return _rescale(x, (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor,
            }
        )
        return config


class AutoContrast(BaseAugmentation):
    """Stretches each image (per channel) so its darkest value maps to the bottom and its
    brightest to the top of `value_range`. Deterministic; applied in training only, as Keras.

    Args:
        value_range: Pixel value range (default `(0, 255)`).
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = _value_range("AutoContrast", value_range)

    def apply_transformation(self, images, transformation):
        x = _rescale(images, self.value_range, (0, 255))
        low = torch.amin(x, dim=(1, 2), keepdim=True)  # Keras: (1, 2) in both data formats
        high = torch.amax(x, dim=(1, 2), keepdim=True)
        scale = 255.0 / (high - low)
        out = (x * scale + (-low * scale)).clamp(0.0, 255.0)
        out = _rescale(out, (0, 255), self.value_range)
        return torch.where(torch.isnan(out), images, out)

    def get_config(self):
        config = super().get_config()
        config["value_range"] = self.value_range
        for key in ("seed",):
            config.pop(key, None)
        return config


class RandomInvert(_ColorAugmentation):
    """Inverts images (`value_range[1] - x`) with a random probability in `factor`.

    Args:
        factor: Probability range, a float in `[0, 1]` (default 1.0) or a pair.
        value_range: Pixel value range (default `(0, 255)`).
        seed: Integer seed.
    """

    _FACTOR_BOUNDS = (0, 1)
    _SORT_VALUE_RANGE = False

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(
            factor=factor, value_range=value_range, seed=seed, data_format=data_format, **kwargs
        )

    def transform_images(self, images, training):
        if not training:
            return images
        b = images.shape[0]
        probability = self.uniform((b,), self.factor[0], self.factor[1], images.device)
        threshold = self.uniform((b,), 0.0, 1.0, images.device)
        apply = (threshold < probability).view(b, 1, 1, 1)
        return torch.where(apply, self.value_range[1] - images, images)


class RandomGrayscale(BaseAugmentation):
    """Turns each image to grayscale (kept with 3 channels) with probability `factor`.

    Args:
        factor: Probability in `[0, 1]` (default 0.5).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def transform_images(self, images, training):
        if not training:
            return images
        b = images.shape[0]
        apply = (self.uniform((b,), device=images.device) < self.factor).view(b, 1, 1, 1)
        return torch.where(apply, _grayscale(images, self.channel_axis), images)

    def get_config(self):
        config = super().get_config()
        config.pop("seed")
        config["factor"] = self.factor
        return config


class RandomColorDegeneration(_ColorAugmentation):
    """Blends each image towards its grayscale version by a random factor:
    `x + f * (gray(x) - x)`, clipped to `value_range`.

    Args:
        factor: A float `f` (factors in `[-f, f]`) or a pair, within `[-1, 1]`.
        value_range: Pixel value range (default `(0, 255)`).
        seed: Integer seed.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(
            factor=factor, value_range=value_range, seed=seed, data_format=data_format, **kwargs
        )

    def get_random_transformation(self, images, seed=None):
        return self.uniform(
            (images.shape[0], 1, 1, 1), self.factor[0], self.factor[1], images.device, seed
        )

    def apply_transformation(self, images, factor):
        gray = _grayscale(images, self.channel_axis)
        out = images + factor * (gray - images)
        return out.clamp(self.value_range[0], self.value_range[1])
