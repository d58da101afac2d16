"""Bounding-box formats and `convert_format`, with Keras 3's arithmetic (float32, same order of
operations), so converted boxes equal Keras's bit for bit.

Every conversion goes through absolute `xyxy` corners: `source -> xyxy -> target`, except that
between two relative formats the image size is not used at all (Keras drops `rel_` from both).
"""

import torch

from keraslike.utils.bounding_boxes._tensors import as_tensor, split4

SUPPORTED_FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)


def _cat(parts):
    return torch.cat(parts, dim=-1)


def _to_xyxy(boxes, source, height, width):
    a, b, c, d = split4(boxes)
    if source == "xyxy":
        return boxes
    if source == "yxyx":
        return _cat([b, a, d, c])
    if source == "xywh":
        return _cat([a, b, a + c, b + d])
    if source in ("center_xywh", "center_yxhw"):
        cx, cy, w, h = (a, b, c, d) if source == "center_xywh" else (b, a, d, c)
        half_w, half_h = w / 2.0, h / 2.0
        return _cat([cx - half_w, cy - half_h, cx + half_w, cy + half_h])
    if source == "rel_xyxy":
        return _cat([a * width, b * height, c * width, d * height])
    if source == "rel_yxyx":
        return _cat([b * width, a * height, d * width, c * height])
    if source == "rel_xywh":
        return _cat([a * width, b * height, (a + c) * width, (b + d) * height])
    # rel_center_xywh
    half_w, half_h = c / 2.0, d / 2.0
    return _cat([(a - half_w) * width, (b - half_h) * height,
                 (a + half_w) * width, (b + half_h) * height])


def _from_xyxy(boxes, target, height, width):
    x1, y1, x2, y2 = split4(boxes)
    if target == "xyxy":
        return boxes
    if target == "yxyx":
        return _cat([y1, x1, y2, x2])
    if target == "xywh":
        return _cat([x1, y1, x2 - x1, y2 - y1])
    if target in ("center_xywh", "center_yxhw"):
        cx, cy = x1 + ((x2 - x1) / 2.0), y1 + ((y2 - y1) / 2.0)
        w, h = x2 - x1, y2 - y1
        return _cat([cx, cy, w, h] if target == "center_xywh" else [cy, cx, h, w])
    if target == "rel_xyxy":
        return _cat([x1 / width, y1 / height, x2 / width, y2 / height])
    if target == "rel_yxyx":
        return _cat([y1 / height, x1 / width, y2 / height, x2 / width])
    if target == "rel_xywh":
        return _cat([x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height])
    # rel_center_xywh
    return _cat([(x1 + ((x2 - x1) / 2.0)) / width, (y1 + ((y2 - y1) / 2.0)) / height,
                 (x2 - x1) / width, (y2 - y1) / height])


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """Converts bounding boxes between formats.

    Supported formats (case-insensitive):
    `"xyxy"`: [left, top, right, bottom]
    `"yxyx"`: [top, left, bottom, right]
    `"xywh"`: [left, top, width, height]
    `"center_xywh"`: [center_x, center_y, width, height]
    `"center_yxhw"`: [center_y, center_x, height, width]
    `"rel_xyxy"`, `"rel_yxyx"`, `"rel_xywh"`, `"rel_center_xywh"`: the same with
    coordinates as fractions of the image `width` and `height`.

    Args:
        boxes: Boxes `(..., 4)` (array or tensor), or a dict whose `"boxes"` entry is
            converted (the dict is updated in place and returned, as Keras does).
        source: Source format string.
        target: Target format string.
        height: Image height (required when either format is relative).
        width: Image width (required when either format is relative).
        dtype: Data type of the result (default `"float32"`).

    Returns:
        The converted boxes, a torch tensor of `dtype` (or the dict holding them).

    Raises:
        ValueError: For an unknown format, a last dimension other than 4, or a relative
            format without `height` and `width`.

    Example:

    >>> boxes = np.array([[10, 20, 30, 40], [50, 60, 70, 80]])
    >>> keras.utils.bounding_boxes.convert_format(boxes, source="xyxy", target="xywh")
    tensor([[10., 20., 20., 20.],
            [50., 60., 20., 20.]])
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(
            boxes["boxes"], source=source, target=target, height=height, width=width, dtype=dtype
        )
        return boxes
    boxes = as_tensor(boxes)
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(
            "`boxes` must be a tensor with the last dimension of 4. "
            f"Received: boxes.shape={tuple(boxes.shape)}"
        )
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Invalid source or target format. Supported formats: {SUPPORTED_FORMATS}. "
            f"Received: source={source!r}, target={target!r}"
        )
    if (source.startswith("rel_") or target.startswith("rel_")) and (
        width is None or height is None
    ):
        raise ValueError(
            "convert_format() must receive `height` and `width` when transforming between "
            f"relative and absolute formats. Received: source={source!r}, target={target!r}, "
            f"height={height}, width={width}"
        )
    boxes = as_tensor(boxes, dtype)
    if source == target:
        return boxes
    if width is not None:
        width = as_tensor(width, dtype, boxes.device)
    if height is not None:
        height = as_tensor(height, dtype, boxes.device)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[len("rel_"):], target[len("rel_"):]
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)
