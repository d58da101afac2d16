"""Geometric augmentations: RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomShear, RandomCrop (Keras 3's arguments, draws and transforms; batched torch ops)."""

import torch

from keraslike.layers.preprocessing import _box_geometry
from keraslike.layers.preprocessing._affine import resample
from keraslike.layers.preprocessing.augmentation_base import (
    FILL_MODES,
    INTERPOLATIONS,
    BaseAugmentation,
    UnsupportedChoiceError,
    check_choice,
)
from keraslike.layers.preprocessing.image import resize_nchw
from keraslike.random.seed_generator import make_default_seed

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class _AffineAugmentation(BaseAugmentation):
    """Shared arguments of the layers that resample through an affine transform."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", fill_value=0.0, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        # Keras raises NotImplementedError for these; the error is also a ValueError.
        check_choice(name, "fill_mode", fill_mode, FILL_MODES, UnsupportedChoiceError)
        check_choice(name, "interpolation", interpolation, INTERPOLATIONS, UnsupportedChoiceError)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _resample(self, images, linear, offset=None):
        """Samples output pixel `p` at `c + linear @ (p - c) + offset` (`c` the centre)."""
        return resample(images, linear, offset, self.interpolation, self.fill_mode,
                        self.fill_value, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "interpolation": self.interpolation,
            }
        )
        return config


class RandomFlip(BaseAugmentation):
    """Randomly flips images horizontally and/or vertically (each image with probability 1/2).

    As in Keras, `"horizontal_and_vertical"` draws one coin per image and flips it both ways.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default).
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs (`{"images": ...,
            "bounding_boxes": {"boxes": ..., "labels": ...}}`), e.g. `"xyxy"`: the boxes
            move with the images; boxes left empty get label -1.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        check_choice("RandomFlip", "mode", mode, (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL))
        self.mode = mode

    def get_random_transformation(self, images, seed=None):
        return self.uniform((images.shape[0], 1, 1, 1), device=images.device, seed=seed) <= 0.5

    def apply_transformation(self, images, flips):
        h_axis, w_axis = self.spatial_axes
        # One coin per image flips it both ways in "horizontal_and_vertical" (Keras).
        axes = {HORIZONTAL: (w_axis,), VERTICAL: (h_axis,)}.get(self.mode, (h_axis, w_axis))
        return torch.where(flips, images.flip(axes), images)

    def transform_bounding_boxes(self, bounding_boxes, flips, image_size):
        horizontal = self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL)
        vertical = self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL)
        return _box_geometry.flip(bounding_boxes, flips, horizontal, vertical,
                                  self.bounding_box_format, *image_size)

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class RandomRotation(_AffineAugmentation):
    """Randomly rotates images by `factor * 360` degrees (counter-clockwise for positive).

    Args:
        factor: A float `f` (angles in `[-f, f] * 360`) or a pair `(lower, upper)`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: Integer seed.
        fill_value: Value outside the image for `fill_mode="constant"`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs (`{"images": ...,
            "bounding_boxes": {"boxes": ..., "labels": ...}}`), e.g. `"xyxy"`: the boxes
            move with the images; boxes left empty get label -1.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(
            factor=factor, fill_mode=fill_mode, interpolation=interpolation, seed=seed,
            fill_value=fill_value, data_format=data_format, **kwargs,
        )

    def get_random_transformation(self, images, seed=None):
        lower, upper = self.factor[0] * 360.0, self.factor[1] * 360.0
        return self.uniform((images.shape[0],), lower, upper, images.device, seed)

    def apply_transformation(self, images, angle):
        radians = angle.to(images.dtype) * (torch.pi / 180.0)
        cos, sin = torch.cos(radians), torch.sin(radians)
        linear = torch.stack([cos, -sin, sin, cos], dim=1).view(-1, 2, 2)  # about the centre
        return self._resample(images, linear)

    def transform_bounding_boxes(self, bounding_boxes, angle, image_size):
        return _box_geometry.rotate(bounding_boxes, angle, self.bounding_box_format, *image_size)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


def _factor_pair(name, arg, factor, allow_none=False):
    """Keras's zoom/translation factor: a pair (sorted) or a float `f` -> `(-|f|, |f|)`, each
    value in `(-1, 1]`."""
    if factor is None and allow_none:
        return None, None
    message = (
        f"Layer {name}: the `{arg}` argument should be a number (or a list of two numbers) in "
        f"the range (-1.0, 1.0]. Received: {arg}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(message)
        values = sorted(factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        values = [-abs(factor), abs(factor)]
        factor_values = [factor]
    else:
        raise ValueError(message)
    for value in factor if isinstance(factor, (tuple, list)) else factor_values:
        if value > 1.0 or value <= -1.0:
            raise ValueError(message)
    return values[0], values[1]


class RandomZoom(_AffineAugmentation):
    """Randomly zooms images in or out (positive factors zoom out, as Keras).

    Args:
        height_factor: A float `f` (zoom in `[-f, f]`) or a pair `(lower, upper)` of
            fractions of the height.
        width_factor: Same for the width; `None` (default) zooms both axes alike.
        fill_mode, interpolation, seed, fill_value, data_format, bounding_box_format: As
            `RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(
            fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
            data_format=data_format, **kwargs,
        )
        self.height_factor = height_factor
        self.width_factor = width_factor
        pair = _factor_pair("RandomZoom", "height_factor", height_factor)
        self.height_lower, self.height_upper = pair
        self.width_lower, self.width_upper = _factor_pair(
            "RandomZoom", "width_factor", width_factor, allow_none=True
        )

    def get_random_transformation(self, images, seed=None):
        b, device = images.shape[0], images.device
        low, high = 1.0 + self.height_lower, 1.0 + self.height_upper
        height_zoom = self.uniform((b, 1), low, high, device, seed)
        if self.width_factor is not None:
            low, high = 1.0 + self.width_lower, 1.0 + self.width_upper
            width_zoom = self.uniform((b, 1), low, high, device, seed)
        else:
            width_zoom = height_zoom
        return height_zoom, width_zoom

    def apply_transformation(self, images, transformation):
        height_zoom, width_zoom = transformation
        zeros = torch.zeros_like(height_zoom)
        linear = torch.cat([width_zoom, zeros, zeros, height_zoom], dim=1).view(-1, 2, 2)
        return self._resample(images, linear)  # scaling about the centre, as Keras

    def transform_bounding_boxes(self, bounding_boxes, transformation, image_size):
        height_zoom, width_zoom = transformation
        return _box_geometry.zoom(bounding_boxes, height_zoom, width_zoom,
                                  self.bounding_box_format, *image_size)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config


class RandomTranslation(_AffineAugmentation):
    """Randomly shifts images by fractions of their height and width.

    Args:
        height_factor: A float `f` (shift in `[-f, f] * height`) or a pair `(lower, upper)`.
        width_factor: Same for the width.
        fill_mode, interpolation, seed, fill_value, data_format, bounding_box_format: As
            `RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(
            fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
            data_format=data_format, **kwargs,
        )
        self.height_factor = height_factor
        self.width_factor = width_factor
        name = "RandomTranslation"
        self.height_lower, self.height_upper = _factor_pair(name, "height_factor", height_factor)
        self.width_lower, self.width_upper = _factor_pair(name, "width_factor", width_factor)

    def get_random_transformation(self, images, seed=None):
        b = images.shape[0]
        dy = self.uniform((b, 1), self.height_lower, self.height_upper, images.device, seed)
        dx = self.uniform((b, 1), self.width_lower, self.width_upper, images.device, seed)
        return dy, dx

    def apply_transformation(self, images, transformation):
        h, w = (images.shape[i] for i in self.spatial_axes)
        offset = torch.cat([transformation[1] * -w, transformation[0] * -h], dim=1)  # (B, 2)
        identity = torch.eye(2, dtype=images.dtype, device=images.device)
        return self._resample(images, identity.expand(offset.shape[0], 2, 2), offset)

    def transform_bounding_boxes(self, bounding_boxes, transformation, image_size):
        dy, dx = transformation
        return _box_geometry.translate(bounding_boxes, dy, dx, self.bounding_box_format,
                                       *image_size)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config


class RandomCrop(BaseAugmentation):
    """Randomly crops a `(height, width)` window (one window per batch, as Keras).

    When not training, or when the image is not larger than the target, the largest centred
    window with the target aspect ratio is cropped and resized to `(height, width)`.

    Args:
        height, width: Output size.
        seed: Integer seed.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs (`{"images": ...,
            "bounding_boxes": {"boxes": ..., "labels": ...}}`), e.g. `"xyxy"`: the boxes
            move with the images; boxes left empty get label -1.
    """

    _USE_BASE_FACTOR = False
    _TRANSFORMS_AT_INFERENCE = True

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        # As Keras, a missing seed is drawn now for the config, and the generator, still given
        # `seed=None`, draws a second one of its own: two draws from Python's `random`, and the
        # crops come from the second.
        config_seed = seed if seed is not None else make_default_seed()
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.seed = config_seed
        self.height = height
        self.width = width

    def transform_images(self, images, training):
        return self.apply_transformation(images, self.dict_transformation(images, training))

    def dict_transformation(self, images, training):
        """The window `(top, left, height, width)` cropped (then resized to the target): a
        random one when training on images larger than the target, else a centred one."""
        h_axis, w_axis = self.spatial_axes
        in_h, in_w = images.shape[h_axis], images.shape[w_axis]
        if training and in_h > self.height and in_w > self.width:
            # The window position is needed on the host to slice: one small read per batch.
            top = int(self.uniform((), 0.0, float(in_h - self.height + 1)))
            left = int(self.uniform((), 0.0, float(in_w - self.width + 1)))
        else:
            crop_h = max(min(in_h, int(float(in_w * self.height) / self.width)), 1)
            crop_w = max(min(in_w, int(float(in_h * self.width) / self.height)), 1)
            top, left = int(float(in_h - crop_h) / 2), int(float(in_w - crop_w) / 2)
        return top, left, min(self.height, in_h - top), min(self.width, in_w - left)

    def get_random_transformation(self, images, seed=None):
        return self.dict_transformation(images, True)

    def apply_transformation(self, images, window):
        top, left, crop_h, crop_w = window
        h_axis, w_axis = self.spatial_axes
        out = images.narrow(h_axis, top, crop_h).narrow(w_axis, left, crop_w)
        if out.shape[h_axis] != self.height or out.shape[w_axis] != self.width:
            nchw = out.permute(0, 3, 1, 2) if self.data_format == "channels_last" else out
            nchw = resize_nchw(nchw, (self.height, self.width))
            out = nchw.permute(0, 2, 3, 1) if self.data_format == "channels_last" else nchw
        return out

    def transform_bounding_boxes(self, bounding_boxes, window, image_size):
        # Keras 3.15's RandomCrop moves x by the vertical offset and y by the horizontal one
        # and never clips at the far side; these boxes follow the cropped images instead.
        return _box_geometry.crop_window(bounding_boxes, *window, self.bounding_box_format,
                                         *image_size, self.height, self.width)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        rank4 = len(shape) == 4
        h_axis, w_axis = self.spatial_axes if rank4 else (a - 1 for a in self.spatial_axes)
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config
