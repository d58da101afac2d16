"""Image resizing and cropping layers (Resizing, CenterCrop), numerically as Keras 3 on torch.

Keras's torch backend resizes with `F.interpolate` on an NCHW view (`"nearest"` is torch's
`"nearest-exact"`, `align_corners=False`, `antialias=False` unless asked); these layers make the
same call on the same view, so their outputs equal Keras's bit for bit.
"""

import torch
import torch.nn.functional as F

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.layer import Layer
from keraslike.layers.preprocessing import _box_geometry
from keraslike.layers.preprocessing._boxes import DeterministicDictInput

_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _aspect_crop_box(height, width, target_height, target_width):
    """`(top, left, crop_height, crop_width)` of the centered box with the target aspect ratio."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (
        int(float(height - crop_height) / 2),
        int(float(width - crop_width) / 2),
        crop_height,
        crop_width,
    )


def resize_nchw(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
                pad_to_aspect_ratio=False, fill_value=0.0):
    """Resizes float NCHW `images` to `size` as Keras's torch backend does."""
    height, width = images.shape[-2], images.shape[-1]
    target_height, target_width = size
    if crop_to_aspect_ratio:
        top, left, crop_height, crop_width = _aspect_crop_box(
            height, width, target_height, target_width
        )
        images = images[:, :, top : top + crop_height, left : left + crop_width]
    elif pad_to_aspect_ratio:
        pad_height = max(height, int(float(width * target_height) / target_width))
        pad_width = max(width, int(float(height * target_width) / target_height))
        top = int(float(pad_height - height) / 2)
        left = int(float(pad_width - width) / 2)
        if top > 0 or left > 0:
            images = F.pad(images, (left, left, top, top), value=float(fill_value))
    if interpolation not in ("bilinear", "bicubic"):
        antialias = False
    return F.interpolate(
        images,
        size=tuple(size),
        mode=_TORCH_MODES[interpolation],
        align_corners=False if interpolation in ("bilinear", "bicubic") else None,
        antialias=antialias,
    )


def _spatial_axes(data_format):
    """Indices of (height, width) in an image tensor of rank 3 or 4."""
    return (-2, -1) if data_format == "channels_first" else (-3, -2)


def _check_rank(layer, shape):
    if len(shape) not in (3, 4):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) expects images of rank 3 '
            f"(unbatched) or 4 (batched). Received: input_shape={tuple(shape)}"
        )


def _resized_shape(layer, input_shape):
    _check_rank(layer, input_shape)
    shape = list(input_shape)
    h_axis, w_axis = _spatial_axes(layer.data_format)
    shape[h_axis], shape[w_axis] = layer.height, layer.width
    return tuple(shape)


def _positive_int(layer, arg, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}): `{arg}` must be a positive integer. '
            f"Received: {arg}={value!r}"
        )


class Resizing(DeterministicDictInput, Layer):
    """Resizes images to `(height, width)`.

    Args:
        height, width: Output size.
        interpolation: `"bilinear"` (default), `"nearest"` or `"bicubic"` (the modes of Keras's
            torch backend).
        crop_to_aspect_ratio: Crop the largest centered window with the target aspect ratio
            first, so the image is not distorted.
        pad_to_aspect_ratio: Pad the image (with `fill_value`) to the target aspect ratio
            first instead.
        fill_mode: Only `"constant"`.
        fill_value: Padding value for `pad_to_aspect_ratio`.
        antialias: Whether to antialias when downsampling (bilinear/bicubic only).
        data_format: `"channels_last"` (`(B, H, W, C)`, default from
            `keras.config.image_data_format()`) or `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs (`{"images": ...,
            "bounding_boxes": {"boxes": ..., "labels": ...}}`), e.g. `"xyxy"`; the boxes
            are moved with the images, clipped, and boxes left empty get label -1.

    Input shape:
        `(B, H, W, C)` or `(H, W, C)` (channels_last). Integer images come back in their dtype,
        rounded; float images in the layer's dtype.

    Output shape:
        `(B, height, width, C)`.
    """

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        bounding_box_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        _positive_int(self, "height", height)
        _positive_int(self, "width", width)
        where = f'Layer "{self.name}" (Resizing)'
        if interpolation not in _TORCH_MODES:
            raise ValueError(
                f"{where}: invalid value for argument `interpolation`. Expected one of "
                f"{sorted(_TORCH_MODES)} (lanczos is not supported on torch). "
                f"Received: interpolation={interpolation!r}"
            )
        if fill_mode != "constant":
            raise ValueError(
                f"{where}: invalid value for argument `fill_mode`. Only `'constant'` is "
                f"supported. Received: fill_mode={fill_mode!r}"
            )
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError(
                f"{where}: only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
                "`True`."
            )
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = backend_config.standardize_data_format(data_format)

    def call(self, inputs):
        _check_rank(self, inputs.shape)
        out_dtype = None
        images = inputs
        if images.is_floating_point():
            images = images.to(torch_dtype(self.compute_dtype))
        if images.dtype not in (torch.float32, torch.float64):
            # Integer (and half precision) images are resized in float32 and cast back.
            out_dtype = images.dtype
            images = images.to(torch.float32)
        unbatched = images.ndim == 3
        if unbatched:
            images = images.unsqueeze(0)
        if self.data_format == "channels_last":
            images = images.permute(0, 3, 1, 2)  # NCHW view with channels_last strides
        resized = resize_nchw(
            images,
            (self.height, self.width),
            self.interpolation,
            self.antialias,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
        )
        if self.data_format == "channels_last":
            resized = resized.permute(0, 2, 3, 1)
        if unbatched:
            resized = resized.squeeze(0)
        if out_dtype is not None:
            if self.interpolation == "bicubic" and out_dtype == torch.uint8:
                resized = resized.clamp(0, 255)
            if out_dtype in _INT_DTYPES:
                resized = torch.round(resized)
            resized = resized.to(out_dtype)
        return resized

    def transform_bounding_boxes(self, bounding_boxes, image_size):
        """Boxes `(B, N, 4)` of images of size `image_size` moved as the images resize."""
        return _box_geometry.resize(
            bounding_boxes, self.bounding_box_format, *image_size, self.height, self.width,
            self.crop_to_aspect_ratio, self.pad_to_aspect_ratio,
        )

    def compute_output_shape(self, input_shape):
        return _resized_shape(self, input_shape)

    def get_config(self):
        config = super().get_config()
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        config.update(
            {
                "data_format": self.data_format,
                "height": self.height,
                "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "antialias": self.antialias,
            }
        )
        return config


class CenterCrop(DeterministicDictInput, Layer):
    """Crops the central `(height, width)` window of images.

    An image smaller than the target (in either dimension) is instead cropped to the target
    aspect ratio and resized (bilinear), as Keras's `smart_resize` does. Outputs are in the
    layer's float dtype.

    Args:
        height, width: Output size.
        data_format: `"channels_last"` (default from `keras.config.image_data_format()`) or
            `"channels_first"`.
        bounding_box_format: Format of the boxes of dict inputs, as `Resizing`'s.

    Input shape:
        `(B, H, W, C)` or `(H, W, C)` (channels_last).

    Output shape:
        `(B, height, width, C)`.
    """

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    def __init__(self, height, width, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        _positive_int(self, "height", height)
        _positive_int(self, "width", width)
        self.height = height
        self.width = width
        self.data_format = backend_config.standardize_data_format(data_format)

    def call(self, inputs):
        _check_rank(self, inputs.shape)
        images = inputs.to(torch_dtype(self.compute_dtype))
        h_axis, w_axis = _spatial_axes(self.data_format)
        height, width = images.shape[h_axis], images.shape[w_axis]
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            images = images.narrow(h_axis, top, self.height)
            return images.narrow(w_axis, left, self.width)
        unbatched = images.ndim == 3
        if unbatched:
            images = images.unsqueeze(0)
        if self.data_format == "channels_last":
            images = images.permute(0, 3, 1, 2)
        resized = resize_nchw(images, (self.height, self.width), crop_to_aspect_ratio=True)
        if self.data_format == "channels_last":
            resized = resized.permute(0, 2, 3, 1)
        return resized.squeeze(0) if unbatched else resized

    def transform_bounding_boxes(self, bounding_boxes, image_size):
        """Boxes `(B, N, 4)` of images of size `image_size` moved as the images are cropped."""
        return _box_geometry.center_crop(bounding_boxes, self.bounding_box_format, *image_size,
                                         self.height, self.width)

    def compute_output_shape(self, input_shape):
        return _resized_shape(self, input_shape)

    def get_config(self):
        config = super().get_config()
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        config.update({"data_format": self.data_format, "height": self.height, "width": self.width})
        return config
