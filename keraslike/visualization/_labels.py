"""Box labels written with Pillow (Keras uses OpenCV's Hershey font: glyphs differ, layout not).

Text is placed where Keras places it (OpenCV's `putText` origin: left end of the baseline) and
sized so that a capital letter is as tall as OpenCV's at the same `font_scale` (22 pixels at 1.0).
Glyphs are rasterised without anti-aliasing, in the box colour, like OpenCV's 8-connected text.
"""

import functools

import numpy as np

# Pillow's default font at this size per unit of `font_scale` has the cap height of OpenCV's
# FONT_HERSHEY_SIMPLEX (22 px at scale 1).
_POINTS_PER_FONT_SCALE = 31


def text_origin(x, y, font_scale, thickness):
    """Where Keras puts a box's label: above the box, or inside it when too close to the top."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


@functools.lru_cache(maxsize=16)
def _font(size):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only its fixed-size bitmap font.
        return ImageFont.load_default()


def draw_text(image, text, origin, color, font_scale, thickness):
    """Writes `text` on `image` (H, W, C) in place, its baseline starting at `origin`.

    Args:
        image: A NumPy array `(height, width, channels)`, changed in place.
        text: The label.
        origin: `(x, y)` of the left end of the baseline.
        color: A NumPy array `(channels,)`.
        font_scale: OpenCV-style scale (1.0 is about 22 pixels tall capitals).
        thickness: Stroke thickness in pixels (1 is a plain glyph).

    Raises:
        ImportError: If Pillow is not installed.
    """
    try:
        from PIL import Image, ImageDraw
    except ImportError as error:
        raise ImportError(
            "Drawing bounding box labels (`class_mapping`) requires Pillow. Install it with "
            "`pip install Pillow` (or `pip install keraslike[image]`), or pass no `class_mapping`."
        ) from error
    height, width = image.shape[:2]
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    draw.fontmode = "1"  # no anti-aliasing: every pixel is the box colour or untouched
    font = _font(max(1, round(_POINTS_PER_FONT_SCALE * font_scale)))
    stroke = {"stroke_width": max(0, (int(thickness) - 1) // 2), "stroke_fill": 255}
    try:
        draw.text(origin, text, fill=255, font=font, anchor="ls", **stroke)
    except ValueError:  # a bitmap font takes only top-left anchoring
        top = origin[1] - font.getbbox(text)[3]
        draw.text((origin[0], top), text, fill=255, font=font, **stroke)
    image[np.asarray(mask) > 0] = color
