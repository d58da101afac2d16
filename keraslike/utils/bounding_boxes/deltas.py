"""Anchor-box encoding: boxes as deltas from anchors and back (Keras 3's arithmetic)."""

import torch

from keraslike.backend.config import epsilon
from keraslike.utils.bounding_boxes._tensors import as_tensor
from keraslike.utils.bounding_boxes.formats import convert_format

_ENCODINGS = ("center_xywh", "center_yxhw")


def _variance(variance):
    if variance is None:
        return None
    variance = as_tensor(variance, "float32")
    if variance.shape[-1] != 4:
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def _size(image_shape):
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def encode_box_to_deltas(anchors, boxes, anchor_format, box_format, encoding_format="center_yxhw",
                         variance=None, image_shape=None):
    """Encodes bounding boxes as deltas relative to anchors.

    Boxes and anchors are converted to `encoding_format`; the deltas are the centre offsets
    divided by the anchor size and the log of the size ratios (divided by `variance` if given).

    Args:
        anchors: Anchor boxes `(N, 4)` in `anchor_format`.
        boxes: Boxes `(N, 4)` or `(B, N, 4)` in `box_format`.
        anchor_format: Format of `anchors` (e.g. `"xyxy"`).
        box_format: Format of `boxes`.
        encoding_format: `"center_yxhw"` (default) or `"center_xywh"`.
        variance: Optional 4 factors the deltas are divided by.
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The deltas, shaped as `boxes`, in `encoding_format` order.

    Raises:
        ValueError: If `variance` does not have length 4, or for another `encoding_format`.
    """
    variance = _variance(variance)
    if encoding_format not in _ENCODINGS:
        raise ValueError(
            "`encoding_format` should be one of 'center_xywh' or "
            f"'center_yxhw', got {encoding_format}"
        )
    height, width = _size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    eps = torch.tensor(epsilon(), dtype=anchors.dtype, device=anchors.device)
    anchor_size = torch.maximum(anchors[..., 2:], eps)
    box_size = torch.maximum(boxes[..., 2:], eps)
    deltas = torch.cat([(boxes[..., :2] - anchors[..., :2]) / anchor_size,
                        torch.log(box_size / anchor_size)], dim=-1)
    if variance is not None:
        deltas = deltas / variance.to(deltas.device)
    return deltas


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format, box_format,
                           encoded_format="center_yxhw", variance=None, image_shape=None):
    """Decodes deltas relative to anchors (from `encode_box_to_deltas`) back to boxes.

    Args:
        anchors: Anchor boxes `(N, 4)`, or a dict of them per feature level.
        boxes_delta: Deltas `(N, 4)` or `(B, N, 4)`, or a dict with the same keys as `anchors`.
        anchor_format: Format of `anchors`.
        box_format: Format of the returned boxes.
        encoded_format: `"center_yxhw"` (default) or `"center_xywh"`, the order of the deltas.
        variance: Optional 4 factors the deltas are multiplied by first.
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The boxes in `box_format` (a dict per level when `anchors` is a dict).

    Raises:
        ValueError: If `variance` does not have length 4, or for another `encoded_format`.
    """
    variance = _variance(variance)
    if encoded_format not in _ENCODINGS:
        raise ValueError(
            "`encoded_format` should be 'center_xywh' or 'center_yxhw', "
            f"but got '{encoded_format}'."
        )
    height, width = _size(image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = as_tensor(delta)
        if variance is not None:
            delta = delta * variance.to(delta.device)
        box = torch.cat([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                         torch.exp(delta[..., 2:]) * anchor[..., 2:]], dim=-1)
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)
