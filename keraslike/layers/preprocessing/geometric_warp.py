"""Warping augmentations: RandomShear, RandomPerspective, RandomElasticTransform (Keras 3's
arguments, draws and transforms; every image of a batch resampled in one batched gather)."""

import torch

from keraslike.layers.preprocessing import _box_geometry
from keraslike.layers.preprocessing._affine import affine_transform
from keraslike.layers.preprocessing.augmentation_base import (
    FILL_MODES,
    INTERPOLATIONS,
    BaseAugmentation,
    UnsupportedChoiceError,
    check_choice,
    constant,
)
from keraslike.layers.preprocessing.color_filters import _factor_range
from keraslike.ops.image_elastic import elastic_transform
from keraslike.ops.image_sampling import perspective_transform


def _shear_range(arg, factor):
    """Keras's shear factor: a number `f` in `[0, 1]` -> `(-f, f)`, or a pair. A pair may hold
    values in `[-1, 1]`: Keras stores `(-f, f)` in its config, and then refuses its own config
    (its pairs must lie in `[0, 1]`); keraslike loads it."""
    message = (
        "Layer RandomShear: the `{arg}` argument should be a number (or a list of two numbers) "
        "in the range [0, 1.0]. Received: {arg}={factor}"
    ).format(arg=arg, factor=factor)
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or any(v > 1.0 or v < -1.0 for v in factor):
            raise ValueError(message)
        lower, upper = sorted(factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor > 1.0 or factor < 0.0:
            raise ValueError(message)
        lower, upper = -abs(factor), abs(factor)
    else:
        raise ValueError(message)
    return lower, upper


class RandomShear(BaseAugmentation):
    """Randomly shears images along the x and/or y axis.

    Each image gets shear factors drawn in `x_factor` and `y_factor`, both negated with
    probability 1/2; a pixel `(x, y)` of the output samples the input at
    `(x + sx * y, sy * x + y)`.

    Args:
        x_factor: A float in `[0, 1]` (shears in `[-f, f]`) or a pair (default 0: none).
        y_factor: Same for the y axis.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        fill_value: Value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs (`{"images": ...,
            "bounding_boxes": {"boxes": ..., "labels": ...}}`), e.g. `"xyxy"`: the boxes
            move with the images; boxes left empty get label -1.
        seed: Integer seed.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.x_factor = _shear_range("x_factor", x_factor)
        self.y_factor = _shear_range("y_factor", y_factor)
        check_choice("RandomShear", "fill_mode", fill_mode, FILL_MODES, UnsupportedChoiceError)
        check_choice("RandomShear", "interpolation", interpolation, INTERPOLATIONS,
                     UnsupportedChoiceError)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

    def get_random_transformation(self, images, seed=None):
        b, device = images.shape[0], images.device
        invert = self.uniform((b, 1), device=device, seed=seed)
        sign = torch.where(invert > 0.5, -1.0, 1.0)
        shear_y = self.uniform((b, 1), self.y_factor[0], self.y_factor[1], device, seed)
        shear_x = self.uniform((b, 1), self.x_factor[0], self.x_factor[1], device, seed)
        return torch.cat([shear_x, shear_y], dim=1) * sign

    def apply_transformation(self, images, shear):
        ones, zeros = torch.ones_like(shear[:, 0]), torch.zeros_like(shear[:, 0])
        matrix = torch.stack(
            [ones, shear[:, 0], zeros, shear[:, 1], ones, zeros, zeros, zeros], dim=1
        )
        return affine_transform(images, matrix, self.interpolation, self.fill_mode,
                                self.fill_value, self.data_format)

    def transform_bounding_boxes(self, bounding_boxes, shear, image_size):
        return _box_geometry.shear(bounding_boxes, shear, self.bounding_box_format, *image_size,
                                   self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "x_factor": self.x_factor,
                "y_factor": self.y_factor,
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value,
            }
        )
        return config


class RandomPerspective(BaseAugmentation):
    """Randomly warps images by a perspective transform.

    With probability drawn in `factor`, each image's corners move by up to `scale / 2` of
    their coordinates and the image is warped to follow them (`fill_value` outside).

    Args:
        factor: Probability of warping an image, a float in `[0, 1]` (default 1.0) or a pair.
        scale: Strength of the distortion, in `[0, 1]` (default 1.0).
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: Value outside the image.
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs (`{"images": ...,
            "bounding_boxes": {"boxes": ..., "labels": ...}}`), e.g. `"xyxy"`: the boxes
            move with the images; boxes left empty get label -1.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._set_factor(factor)
        if scale < 0.0 or scale > 1.0:
            raise ValueError(
                "Layer RandomPerspective: the `scale` argument should be a number in the range "
                f"[0,1]. Received: scale={scale}"
            )
        check_choice("RandomPerspective", "interpolation", interpolation, INTERPOLATIONS,
                     UnsupportedChoiceError)
        self.scale = scale
        self.fill_value = fill_value
        self.interpolation = interpolation

    def get_random_transformation(self, images, seed=None):
        b, device = images.shape[0], images.device
        h, w = (images.shape[i] for i in self.spatial_axes)
        probability = self.uniform((b,), self.factor[0], self.factor[1], device, seed)
        threshold = self.uniform((b,), 0.0, 1.0, device, seed)
        apply = threshold < probability
        jitter = self.uniform((b, 4, 2), -0.5 * self.scale, 0.5 * self.scale, device, seed)
        corners = ((0.0, 0.0), (w - 1.0, 0.0), (0.0, h - 1.0), (w - 1.0, h - 1.0))
        start = constant(corners, device, jitter.dtype).expand(b, 4, 2)
        return apply, start, start + start * jitter

    def apply_transformation(self, images, transformation):
        apply, start, end = transformation
        warped = perspective_transform(images, start, end, interpolation=self.interpolation,
                                       fill_value=self.fill_value, data_format=self.data_format)
        return torch.where(apply.view(-1, 1, 1, 1), warped, images)

    def transform_bounding_boxes(self, bounding_boxes, transformation, image_size):
        apply, start, end = transformation
        return _box_geometry.perspective(bounding_boxes, apply, start, end,
                                         self.bounding_box_format, *image_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value,
            }
        )
        return config


class RandomElasticTransform(BaseAugmentation):
    """Randomly deforms images with smooth random displacement fields.

    With probability drawn in `factor`, an image is deformed by
    `keras.ops.image.elastic_transform` with `alpha = 0.1 * s * max(H, W)` and
    `sigma = 0.05 * s * min(H, W)`, `s` drawn in `scale` once per batch. Outputs are clipped
    to `value_range`.

    Args:
        factor: Probability of deforming an image, a float in `[0, 1]` (default 1.0) or a pair.
        scale: Strength of the deformation, a float in `[0, 1]` (default 1.0) or a pair.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"mirror"`, `"wrap"`, `"constant"` or `"nearest"`.
        fill_value: Value outside the image for `fill_mode="constant"`.
        value_range: The range of the pixel values (default `(0, 255)`).
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._set_factor(factor)
        self.scale = _factor_range("RandomElasticTransform", "scale", scale)
        name = "RandomElasticTransform"
        check_choice(name, "interpolation", interpolation, INTERPOLATIONS, UnsupportedChoiceError)
        check_choice(name, "fill_mode", fill_mode, self._FILL_MODES, UnsupportedChoiceError)
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, images, seed=None):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return None
        b, device = images.shape[0], images.device
        probability = self.uniform((b,), self.factor[0], self.factor[1], device, seed)
        threshold = self.uniform((b,), 0.0, 1.0, device, seed)
        # Drawn on the host: the blur's kernel size depends on it (no device read).
        distortion = float(self.uniform((), self.scale[0], self.scale[1], seed=seed))
        return threshold < probability, distortion, seed

    def apply_transformation(self, images, transformation):
        if transformation is None:
            return images
        apply, distortion, seed = transformation
        h, w = (images.shape[i] for i in self.spatial_axes)
        alpha = max(h, w) * (0.1 * distortion)
        sigma = min(h, w) * (0.05 * distortion)
        warped = elastic_transform(
            images, alpha=alpha, sigma=sigma, interpolation=self.interpolation,
            fill_mode=self.fill_mode, fill_value=self.fill_value,
            seed=self.generator if seed is None else seed, data_format=self.data_format,
        )
        out = torch.where(apply.view(-1, 1, 1, 1), warped, images)
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "interpolation": self.interpolation,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "value_range": self.value_range,
            }
        )
        return config
