"""HSV colour augmentations: RandomHue, RandomSaturation, and RandomColorJitter (brightness,
contrast, saturation and hue in turn), with Keras 3's draws and formulas; batched torch ops."""

import torch

from keraslike.backend import config as backend_config
from keraslike.layers.preprocessing.augmentation_base import BaseAugmentation
from keraslike.layers.preprocessing.color import (
    RandomBrightness,
    RandomContrast,
    _rescale,
    _value_range,
)
from keraslike.ops.image import hsv_to_rgb, rgb_to_hsv


def _replace_channel(images, index, channel, channel_axis):
    """`images` with channel `index` (along `channel_axis`) replaced by `channel`."""
    parts = list(images.unbind(channel_axis))
    parts[index] = channel
    return torch.stack(parts, dim=channel_axis)


class RandomHue(BaseAugmentation):
    """Randomly rotates the hue of RGB images.

    Each image is converted to HSV, its hue shifted by `+-f / 2` (a random sign and a factor
    `f` drawn in `factor`), wrapped into `[0, 1]` and converted back.

    Args:
        factor: A float in `[0, 1]` (factors in `[0, factor]`) or a pair `(lower, upper)`.
            `0` leaves images unchanged; `1` shifts the hue by up to half a turn.
        value_range: The range of the pixel values (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.

    Example:

    ```python
    layer = keras.layers.RandomHue(factor=0.5, value_range=(0, 1))
    augmented = layer(images)
    ```
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        _value_range("RandomHue", value_range)
        self.value_range = value_range

    def get_random_transformation(self, images, seed=None):
        b = images.shape[0]
        invert = self.uniform((b,), device=images.device, seed=seed)
        sign = torch.where(invert > 0.5, -1.0, 1.0)
        factor = self.uniform((b,), self.factor[0], self.factor[1], images.device, seed)
        return sign * factor * 0.5

    def apply_transformation(self, images, delta):
        axis = self.channel_axis
        x = _rescale(images, self.value_range, (0, 1))
        hsv = rgb_to_hsv(x, data_format=self.data_format)
        hue = hsv.select(axis, 0) + delta.to(x.dtype).view(-1, 1, 1)
        hue = torch.where(hue > 1.0, hue - 1.0, hue)
        hue = torch.where(hue < 0.0, hue + 1.0, hue)
        rgb = hsv_to_rgb(_replace_channel(hsv, 0, hue, axis), data_format=self.data_format)
        return _rescale(rgb.clamp(0, 1), (0, 1), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


class RandomSaturation(BaseAugmentation):
    """Randomly scales the saturation of RGB images.

    A factor `f` drawn in `factor` scales the HSV saturation by `f / (1 - f)`: `0.5` leaves
    images unchanged, `0` makes them grayscale, values near `1` fully saturate them.

    Args:
        factor: A float (factors in `[-factor, factor]`, as Keras) or a pair `(lower, upper)`,
            within `[-1, 1]`.
        value_range: The range of the pixel values (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        self.value_range = _value_range("RandomSaturation", value_range)

    def get_random_transformation(self, images, seed=None):
        factor = self.uniform((images.shape[0],), self.factor[0], self.factor[1],
                              images.device, seed)
        return factor / (1 - factor + backend_config.epsilon())

    def apply_transformation(self, images, factor):
        axis = self.channel_axis
        hsv = rgb_to_hsv(images, data_format=self.data_format)
        saturation = hsv.select(axis, 1) * factor.to(images.dtype).view(-1, 1, 1)
        # Keras clips the saturation to `value_range` (not to [0, 1]).
        saturation = saturation.clamp(self.value_range[0], self.value_range[1])
        return hsv_to_rgb(_replace_channel(hsv, 1, saturation, axis), data_format=self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


class RandomColorJitter(BaseAugmentation):
    """Randomly adjusts brightness, contrast, saturation and hue, in that order.

    Each adjustment whose factor is given runs as the layer of the same name
    (`RandomBrightness`, `RandomContrast`, `RandomSaturation`, `RandomHue`), its parameters
    drawn from this layer's seed generator.

    Args:
        value_range: The range of the pixel values (default `(0, 255)`).
        brightness_factor: `factor` of `RandomBrightness`, or `None` to skip it.
        contrast_factor: `factor` of `RandomContrast`, or `None`.
        saturation_factor: `factor` of `RandomSaturation`, or `None`.
        hue_factor: `factor` of `RandomHue`, or `None`.
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        common = {"value_range": value_range, "seed": seed}
        steps = [
            (RandomBrightness, brightness_factor),
            (RandomContrast, contrast_factor),
            (RandomSaturation, saturation_factor),
            (RandomHue, hue_factor),
        ]
        # As Keras, the sublayers work in the default data format (they get none).
        self._steps = torch.nn.ModuleList(
            cls(factor=factor, **common) for cls, factor in steps if factor is not None
        )

    def apply_transformation(self, images, transformation):
        # Each step draws from this layer's generator just before it runs, as Keras does.
        for step in self._steps:
            images = step.apply_transformation(
                images, step.get_random_transformation(images, seed=self.generator)
            )
        return images

    def get_random_transformation(self, images, seed=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor,
            }
        )
        return config
