"""`keras.visualization.draw_bounding_boxes`, without OpenCV."""

import numpy as np

from keraslike.visualization._box_format import to_xyxy
from keraslike.visualization._common import (
    opencv_pixel,
    require_batched_images,
    resolve_data_format,
    to_numpy,
)
from keraslike.visualization._labels import draw_text, text_origin
from keraslike.visualization._rectangle import draw_rectangle


def _to_uint8(images):
    """The images as uint8 in [0, 255]: Keras's rule, floats in [0, 1] are scaled by 255."""
    if images.dtype.kind == "f" and images.size > 0:
        if images.max() <= 1.0:
            images = np.clip(images, 0, 1) * 255
        else:
            images = np.clip(images, 0, 255)
    elif images.dtype.kind in "iu":
        images = np.clip(images, 0, 255)
    return images.astype("uint8")  # a copy: the caller's array is never drawn on


def _check_boxes(bounding_boxes, batch_size):
    if not isinstance(bounding_boxes, dict):
        raise TypeError(
            "`bounding_boxes` should be a dict. "
            f"Received: bounding_boxes={bounding_boxes} of type {type(bounding_boxes)}"
        )
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError(
            "`bounding_boxes` should be a dict containing 'boxes' and 'labels' keys. "
            f"Received: bounding_boxes={bounding_boxes}"
        )
    boxes = to_numpy(bounding_boxes["boxes"])
    labels = to_numpy(bounding_boxes["labels"])
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else to_numpy(confidences)
    if boxes.ndim != 3 or boxes.shape[0] != batch_size or labels.shape != boxes.shape[:2]:
        raise ValueError(
            "`bounding_boxes['boxes']` must have shape (batch_size, num_boxes, 4) and "
            "`bounding_boxes['labels']` shape (batch_size, num_boxes), with the batch size of "
            f"`images` ({batch_size}). Received: boxes.shape={boxes.shape}, "
            f"labels.shape={labels.shape}"
        )
    if confidences is not None and confidences.shape != labels.shape:
        raise ValueError(
            "`bounding_boxes['confidences']` must have the shape of the labels "
            f"{labels.shape}. Received: confidences.shape={confidences.shape}"
        )
    return boxes, labels, confidences


def draw_bounding_boxes(
    images,
    bounding_boxes,
    bounding_box_format,
    class_mapping=None,
    color=(128, 128, 128),
    line_thickness=2,
    text_thickness=1,
    font_scale=1.0,
    data_format=None,
):
    """Draws bounding boxes on images.

    This function draws bounding boxes on a batch of images. It supports
    different bounding box formats and can optionally display class labels
    and confidences. Box outlines are the pixels OpenCV's `cv2.rectangle` draws
    (as in Keras), computed without OpenCV; labels are written with Pillow.

    Args:
        images: A batch of images as a 4D tensor or NumPy array. Shape should be
            `(batch_size, height, width, channels)` (or channels first, see
            `data_format`). Float images with values at most 1 are scaled by
            255; others are clipped to `[0, 255]`.
        bounding_boxes: A dictionary containing bounding box data. Should have
            the following keys:
            - `boxes`: A tensor or array of shape `(batch_size, num_boxes, 4)`
              containing the bounding box coordinates in the specified format.
            - `labels`: A tensor or array of shape `(batch_size, num_boxes)`
              containing the class labels for each bounding box. Boxes with
              label `-1` (padding) are not drawn.
            - `confidences` (Optional): A tensor or array of shape
              `(batch_size, num_boxes)` containing the confidence scores for
              each bounding box.
        bounding_box_format: A string specifying the format of the bounding
            boxes: `"xyxy"`, `"yxyx"`, `"xywh"`, `"center_xywh"`,
            `"center_yxhw"`, or the relative `"rel_xyxy"`, `"rel_yxyx"`,
            `"rel_xywh"`, `"rel_center_xywh"`.
        class_mapping: A dictionary mapping class IDs (integers) to class labels
            (strings). Used to display class labels next to the bounding boxes
            (requires Pillow). Defaults to `None` (no labels displayed).
        color: A tuple or list representing the RGB color of the bounding boxes.
            For example, `(255, 0, 0)` for red. Defaults to `(128, 128, 128)`.
        line_thickness: An integer specifying the thickness of the bounding box
            lines; a negative value fills the boxes. Defaults to `2`.
        text_thickness: An integer specifying the thickness of the text labels.
            Defaults to `1`.
        font_scale: A float specifying the scale of the font used for text
            labels. Defaults to `1.0`.
        data_format: A string, either `"channels_last"` or `"channels_first"`,
            specifying the order of dimensions in the input images. Defaults to
            `keras.config.image_data_format()`.

    Returns:
        A uint8 NumPy array of the annotated images with the bounding boxes
        drawn, with the same shape as the input `images`.

    Raises:
        ValueError: If `images` is not a 4D tensor/array, if `bounding_boxes`
            does not contain `"boxes"` and `"labels"` keys or their shapes do
            not match the images, or for an unknown `bounding_box_format`.
        TypeError: If `bounding_boxes` is not a dictionary.
        ImportError: If labels must be drawn and Pillow is not installed.

    Example:

    >>> images = np.zeros((1, 32, 32, 3), dtype="uint8")
    >>> boxes = {"boxes": np.array([[[4, 4, 20, 24]]]), "labels": np.array([[0]])}
    >>> drawn = keras.visualization.draw_bounding_boxes(images, boxes, "xyxy")
    >>> drawn.shape, drawn.dtype
    ((1, 32, 32, 3), dtype('uint8'))
    """
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = resolve_data_format(data_format)
    images = require_batched_images(images)
    boxes, labels, confidences = _check_boxes(bounding_boxes, images.shape[0])
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    height, width, channels = images.shape[1:]
    boxes = to_xyxy(boxes, bounding_box_format, height, width)
    images = _to_uint8(images)
    pixel = opencv_pixel(color, channels)

    for i, image in enumerate(images):
        for j in range(boxes.shape[1]):
            if not np.all(np.isfinite(boxes[i, j])):
                continue
            x1, y1, x2, y2 = (int(v) for v in boxes[i, j].astype("int32"))
            label = int(labels[i, j].astype("int32"))
            if label == -1:
                continue
            draw_rectangle(image, x1, y1, x2, y2, pixel, int(line_thickness))
            if label in class_mapping:
                text = f"{class_mapping[label]}"
                if confidences is not None:
                    text = f"{text} | {confidences[i, j]:.2f}"
                origin = text_origin(x1, y1, font_scale, text_thickness)
                draw_text(image, text, origin, pixel, font_scale, text_thickness)

    if data_format == "channels_first":
        images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return images
