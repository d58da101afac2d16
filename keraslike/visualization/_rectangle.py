"""Box outlines drawn pixel for pixel as OpenCV's `cv2.rectangle` (8-connected lines) draws them.

Keras draws boxes with OpenCV; keraslike draws the same pixels with NumPy slicing, so boxes look
the same without OpenCV installed. For integer corners OpenCV's outline of thickness `t` is:
- `t <= 1`: the one-pixel border of the box (corners included);
- `t >= 2`: each side widened by `h = (t + 1) // 2` pixels on both sides (a side is a filled
  polygon with integer vertices, edges included), plus a filled midpoint circle of radius `h`
  at each corner (the round caps of OpenCV's thick lines);
- `t < 0`: the filled box.
"""

import functools


@functools.lru_cache(maxsize=64)
def _disc_half_widths(radius):
    """Half widths of the rows of OpenCV's filled midpoint circle, indexed by distance to center."""
    half = [0] * (radius + 1)
    err, dx, dy, plus, minus = 0, radius, 0, 1, 2 * radius - 1
    while dx >= dy:
        half[dy] = max(half[dy], dx)
        half[dx] = max(half[dx], dy)
        dy += 1
        err += plus
        plus += 2
        if err > 0:
            err -= minus
            dx -= 1
            minus -= 2
    return tuple(half)


def _fill(image, x1, y1, x2, y2, color):
    """Sets the pixels of `image` (H, W, C) in columns x1..x2, rows y1..y2 (inclusive, clipped)."""
    height, width = image.shape[:2]
    x1, x2 = max(min(x1, x2), 0), min(max(x1, x2), width - 1)
    y1, y2 = max(min(y1, y2), 0), min(max(y1, y2), height - 1)
    if x1 <= x2 and y1 <= y2:
        image[y1 : y2 + 1, x1 : x2 + 1] = color


def _disc(image, cx, cy, radius, color):
    for offset, half in enumerate(_disc_half_widths(radius)):
        _fill(image, cx - half, cy - offset, cx + half, cy - offset, color)
        _fill(image, cx - half, cy + offset, cx + half, cy + offset, color)


def draw_rectangle(image, x1, y1, x2, y2, color, thickness):
    """Draws a box outline in place, with the pixels `cv2.rectangle` would set.

    Args:
        image: A NumPy array `(height, width, channels)`, changed in place.
        x1, y1, x2, y2: Integer corners (any order; they may lie outside the image).
        color: A NumPy array `(channels,)` with the pixel value to write.
        thickness: Line thickness in pixels; negative fills the box.
    """
    if thickness < 0:
        _fill(image, x1, y1, x2, y2, color)
        return
    if thickness <= 1:
        for x, y, u, v in ((x1, y1, x2, y1), (x2, y1, x2, y2), (x1, y2, x2, y2), (x1, y1, x1, y2)):
            _fill(image, x, y, u, v, color)
        return
    half = (thickness + 1) // 2
    _fill(image, x1, y1 - half, x2, y1 + half, color)
    _fill(image, x1, y2 - half, x2, y2 + half, color)
    _fill(image, x1 - half, y1, x1 + half, y2, color)
    _fill(image, x2 - half, y1, x2 + half, y2, color)
    for cx, cy in ((x1, y1), (x2, y1), (x2, y2), (x1, y2)):
        _disc(image, cx, cy, half, color)
