"""Bounding boxes in any Keras box format to absolute `xyxy` corners, as Keras computes them.

Keras's formats (case-insensitive): `xyxy` [left, top, right, bottom], `yxyx`, `xywh`
[left, top, width, height], `center_xywh`, `center_yxhw`, and the relative `rel_xyxy`,
`rel_yxyx`, `rel_xywh`, `rel_center_xywh` (fractions of the image width and height).
Arithmetic is float32 in Keras's order, so the integer corners drawn are Keras's.
"""

import numpy as np

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


def _centered(cx, cy, w, h):
    half_w, half_h = w / np.float32(2.0), h / np.float32(2.0)
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def to_xyxy(boxes, source, height, width):
    """Converts boxes `(..., 4)` in format `source` to absolute `xyxy` float32 corners.

    Args:
        boxes: A NumPy array `(..., 4)`.
        source: The boxes' format, one of `SUPPORTED_FORMATS` (case-insensitive).
        height: Image height in pixels (used by the `rel_*` formats).
        width: Image width in pixels (used by the `rel_*` formats).

    Returns:
        A float32 NumPy array `(..., 4)` of `[x1, y1, x2, y2]`.

    Raises:
        ValueError: For an unknown format or a last dimension other than 4.
    """
    boxes = np.asarray(boxes)
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(
            "`boxes` must be a tensor with the last dimension of 4. "
            f"Received: boxes.shape={boxes.shape}"
        )
    source = str(source).lower()
    if source not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Invalid bounding box format {source!r}. Supported formats: {SUPPORTED_FORMATS}"
        )
    boxes = boxes.astype(np.float32)
    a, b, c, d = (boxes[..., i] for i in range(4))
    relative = source.startswith("rel_")
    layout = source[len("rel_") :] if relative else source
    if layout == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif layout == "yxyx":
        x1, y1, x2, y2 = b, a, d, c
    elif layout == "center_xywh":
        x1, y1, x2, y2 = _centered(a, b, c, d)
    elif layout == "center_yxhw":
        x1, y1, x2, y2 = _centered(b, a, d, c)
    else:  # xywh; `rel_xywh` adds before scaling, as Keras does.
        x1, y1, x2, y2 = a, b, a + c, b + d
    if relative:
        width, height = np.float32(width), np.float32(height)
        x1, y1, x2, y2 = x1 * width, y1 * height, x2 * width, y2 * height
    return np.stack([x1, y1, x2, y2], axis=-1)
