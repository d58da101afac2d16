"""Bounding boxes in any Keras box format to absolute `xyxy` corners, for drawing.

The conversion itself is `keras.utils.bounding_boxes.convert_format` (one implementation, equal
to Keras's bit for bit); this adds the NumPy face and the drawing functions' error message.
"""

import numpy as np

from keraslike.utils.bounding_boxes.formats import SUPPORTED_FORMATS, convert_format

__all__ = ["SUPPORTED_FORMATS", "to_xyxy"]


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
    if str(source).lower() not in SUPPORTED_FORMATS:
        raise ValueError(
            f"Invalid bounding box format {source!r}. Supported formats: {SUPPORTED_FORMATS}"
        )
    return convert_format(boxes, str(source), "xyxy", height=height, width=width).numpy()
