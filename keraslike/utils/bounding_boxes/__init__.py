"""Bounding-box utilities (`keras.utils.bounding_boxes`): format conversion, clipping,
cropping, padding, affine transforms, anchor deltas and IoU, numerically as Keras 3."""

from keraslike.utils.bounding_boxes.deltas import decode_deltas_to_boxes, encode_box_to_deltas
from keraslike.utils.bounding_boxes.formats import SUPPORTED_FORMATS, convert_format
from keraslike.utils.bounding_boxes.geometry import (
    affine_transform,
    clip_to_image_size,
    crop,
    pad,
)
from keraslike.utils.bounding_boxes.iou import compute_ciou, compute_iou

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]
