"""Augmentations that mix or cut images: MixUp, CutMix (which also mix the labels of a
`{"images": ..., "labels": ...}` input) and RandomErasing (Keras 3's draws and formulas; all
on the images' device)."""

import torch

from keraslike.layers.preprocessing.augmentation_base import BaseAugmentation, constant
from keraslike.layers.preprocessing.color_filters import _factor_range


def _permutation(layer, images, seed):
    """Keras's `keras.random.shuffle(arange(B))`: the argsort of B uniform numbers."""
    return layer.uniform((images.shape[0],), device=images.device, seed=seed).argsort()


def _box_mask(layer, images, ratio_x, ratio_y, seed):
    """Boxes of `ratio * size` per image at uniform positions (Keras's crop bounds), as a
    `(B, H, W, 1)` / `(B, 1, H, W)` mask; also returns the boxes' area fractions."""
    b, device = images.shape[0], images.device
    h, w = (images.shape[i] for i in layer.spatial_axes)
    dtype = ratio_x.dtype

    def bounds(length, ratio):
        crop = ratio * length
        start = layer.uniform((b,), device=device, seed=seed) * (length - crop)
        return start.view(b, 1, 1), (start + crop).view(b, 1, 1)

    x0, x1 = bounds(w, ratio_x)
    y0, y1 = bounds(h, ratio_y)
    grid_y = torch.arange(h, dtype=dtype, device=device).view(1, h, 1)
    grid_x = torch.arange(w, dtype=dtype, device=device).view(1, 1, w)
    mask = (grid_x >= x0) & (grid_x < x1) & (grid_y >= y0) & (grid_y < y1)  # (B, H, W)
    mask = mask.unsqueeze(layer.channel_axis)
    area = ((x1 - x0) * (y1 - y0)).view(b) / (w * h)
    return mask, area


class MixUp(BaseAugmentation):
    """MixUp: blends each image (and label) with another of the batch.

    `x = w * x + (1 - w) * x[perm]` with `w ~ Beta(alpha, alpha)` per image and a random
    permutation of the batch. Called on `{"images": ..., "labels": ...}` it mixes the (one-hot)
    labels with the same weights.

    Args:
        alpha: Concentration of the Beta distribution (default 0.2).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.

    Example:

    ```python
    mix = keras.layers.MixUp(alpha=0.2)
    batch = mix({"images": images, "labels": one_hot_labels})
    ```
    """

    _USE_BASE_FACTOR = False

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.alpha = alpha

    def get_random_transformation(self, images, seed=None):
        permutation = _permutation(self, images, seed)
        weight = self.beta((images.shape[0],), self.alpha, images.device, seed)
        return weight, permutation

    def apply_transformation(self, images, transformation):
        weight, permutation = transformation
        weight = weight.to(images.dtype).view(-1, 1, 1, 1)
        return weight * images + (1.0 - weight) * images[permutation]

    def transform_labels(self, labels, transformation):
        weight, permutation = transformation
        weight = weight.view(-1, *([1] * (labels.ndim - 1)))
        return weight * labels + (1.0 - weight) * labels[permutation]

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class CutMix(BaseAugmentation):
    """CutMix: pastes a random box of another image of the batch into each image.

    The box covers a fraction `1 - w` of the image, `w ~ Beta(a, a)` with `a` drawn in
    `factor`; labels of a `{"images", "labels"}` input are mixed by the pasted area. Unbatched
    images are returned unchanged, as in Keras.

    Args:
        factor: Range of the Beta concentration, a float in `[0, 1]` (default 1.0) or a pair.
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._set_factor(factor)

    def call(self, inputs, training=True):
        images = inputs["images"] if isinstance(inputs, dict) else inputs
        if getattr(images, "ndim", 4) == 3:  # Keras: no mixing for a single image
            training = False
        return super().call(inputs, training)

    def get_random_transformation(self, images, seed=None):
        b = images.shape[0]
        generator = self.generator if seed is None else seed
        alpha = self.uniform((), self.factor[0], self.factor[1], images.device, generator) + 1e-6
        weight = self.beta((b,), alpha, images.device, generator)
        ratio = torch.sqrt(1.0 - weight)
        mask, area = _box_mask(self, images, ratio, ratio, generator)
        permutation = _permutation(self, images, generator)
        return mask, 1.0 - area, permutation

    def apply_transformation(self, images, transformation):
        mask, _, permutation = transformation
        return torch.where(mask, images[permutation], images)

    def transform_labels(self, labels, transformation):
        _, weight, permutation = transformation
        weight = weight.view(-1, *([1] * (labels.ndim - 1)))
        return weight * labels + (1.0 - weight) * labels[permutation]

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomErasing(BaseAugmentation):
    """Randomly erases a box of each image (with probability drawn in `factor`).

    The box's sides are `sqrt(s)` of the image's, `s` drawn in `scale` per side; it is filled
    with `fill_value`, or with Gaussian noise times `value_range[1]` when `fill_value` is
    `None`, clipped to `value_range`.

    Args:
        factor: Probability of erasing, a float in `[0, 1]` (default 1.0) or a pair.
        scale: Range of the box's area fraction per side (default `(0.02, 0.33)`).
        fill_value: `None` (noise, default), a number, or three numbers (one per channel).
        value_range: The range of the pixel values (default `(0, 255)`).
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._set_factor(factor)
        self.scale = _factor_range("RandomErasing", "scale", scale)
        valid = fill_value is None or (
            isinstance(fill_value, (tuple, list)) and len(fill_value) == 3
        ) or (isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool))
        if not valid:
            raise ValueError(
                "Layer RandomErasing: the `fill_value` argument should be a number (or a list "
                f"of three numbers). Received: fill_value={fill_value}"
            )
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, images, seed=None):
        b, device = images.shape[0], images.device
        generator = self.generator if seed is None else seed
        ratios = self.uniform((b, 2), self.scale[0], self.scale[1], device, generator).sqrt()
        mask, _ = _box_mask(self, images, ratios[:, 0], ratios[:, 1], generator)
        probability = self.uniform((b,), self.factor[0], self.factor[1], device, generator)
        threshold = self.uniform((b,), 0.0, 1.0, device, generator)
        mask = mask & (threshold < probability).view(b, 1, 1, 1)
        if self.fill_value is None:
            fill = self.normal(images.shape, device, generator) * self.value_range[1]
        else:
            value = self.fill_value
            value = tuple(value) if isinstance(value, (tuple, list)) else float(value)
            fill = constant(value, device, images.dtype)
        return mask, fill.clamp(self.value_range[0], self.value_range[1])

    def apply_transformation(self, images, transformation):
        mask, fill = transformation
        return torch.where(mask, fill.to(images.dtype), images)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "fill_value": self.fill_value,
                "value_range": self.value_range,
            }
        )
        return config
