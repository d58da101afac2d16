"""`keras.visualization.plot_bounding_box_gallery` (matplotlib is imported on first use)."""

import numpy as np

from keraslike.visualization._common import (
    import_pyplot,
    require_batched_images,
    resolve_data_format,
    to_0_255,
)
from keraslike.visualization.draw_bounding_boxes import draw_bounding_boxes
from keraslike.visualization.plot_image_gallery import plot_image_gallery


def plot_bounding_box_gallery(
    images,
    bounding_box_format,
    y_true=None,
    y_pred=None,
    value_range=(0, 255),
    true_color=(0, 188, 212),
    pred_color=(255, 235, 59),
    line_thickness=2,
    font_scale=1.0,
    text_thickness=None,
    class_mapping=None,
    ground_truth_mapping=None,
    prediction_mapping=None,
    legend=False,
    legend_handles=None,
    rows=None,
    cols=None,
    data_format=None,
    **kwargs,
):
    """Plots a gallery of images with bounding boxes.

    This function can display both ground truth and predicted bounding boxes on
    a set of images, drawn with `keras.visualization.draw_bounding_boxes`
    (ground truth first), and can include class labels and a legend.

    Args:
        images: A 4D tensor or NumPy array of images. Shape should be
            `(batch_size, height, width, channels)` (or channels first, see
            `data_format`).
        bounding_box_format: The format of the bounding boxes (e.g., `"xyxy"`,
            `"yxyx"`, `"xywh"`, `"center_xywh"`, `"center_yxhw"`, and the
            `"rel_*"` variants).
        y_true: A dictionary containing the ground truth bounding boxes and
            labels, structured as the `bounding_boxes` argument of
            `keras.visualization.draw_bounding_boxes`. Defaults to `None`.
        y_pred: A dictionary containing the predicted bounding boxes and labels.
            Should have the same structure as `y_true`. Defaults to `None`.
        value_range: A tuple specifying the value range of the images
            (e.g., `(0, 255)` or `(0, 1)`). Defaults to `(0, 255)`.
        true_color: A tuple of three integers representing the RGB color for the
            ground truth bounding boxes. Defaults to `(0, 188, 212)`.
        pred_color: A tuple of three integers representing the RGB color for the
            predicted bounding boxes. Defaults to `(255, 235, 59)`.
        line_thickness: The thickness of the bounding box lines. Defaults to 2.
        font_scale: The scale of the font used for labels. Defaults to 1.0.
        text_thickness: The thickness of the bounding box text. Defaults to
            `line_thickness`.
        class_mapping: A dictionary mapping class IDs to class names. Used for
            both ground truth and predicted boxes if `ground_truth_mapping`
            and `prediction_mapping` are not provided. Defaults to `None`.
        ground_truth_mapping: A dictionary mapping class IDs to class names
            specifically for ground truth boxes. Overrides `class_mapping`
            for ground truth. Defaults to `None`.
        prediction_mapping: A dictionary mapping class IDs to class names
            specifically for predicted boxes. Overrides `class_mapping` for
            predictions. Defaults to `None`.
        legend: A boolean indicating whether to show a legend ("Ground Truth"
            and "Prediction" patches in the two colours). Defaults to `False`.
        legend_handles: A list of matplotlib `Patch` objects to use for the
            legend. Defaults to `None`.
        rows: The number of rows in the image gallery. Defaults to `None`.
        cols: The number of columns in the image gallery. Defaults to `None`.
        data_format: The image data format `"channels_last"` or
            `"channels_first"`. Defaults to `keras.config.image_data_format()`.
        **kwargs: Additional keyword arguments to be passed to
            `keras.visualization.plot_image_gallery`.

    Returns:
        The output of `keras.visualization.plot_image_gallery`.

    Raises:
        ValueError: If `images` is not a 4D tensor/array or if both `legend`
            and `legend_handles` are specified.
        ImportError: If matplotlib is not installed.

    Example:

    >>> images = np.zeros((2, 32, 32, 3), dtype="uint8")
    >>> boxes = {"boxes": np.array([[[4, 4, 20, 24]], [[2, 2, 9, 9]]]),
    ...          "labels": np.array([[0], [1]])}
    >>> keras.visualization.plot_bounding_box_gallery(
    ...     images, "xyxy", y_true=boxes, class_mapping={0: "cat", 1: "dog"},
    ...     show=False)
    """
    import_pyplot("plot_bounding_box_gallery")
    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = resolve_data_format(data_format)
    images = require_batched_images(images)
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    if (y_true is not None or y_pred is not None) and tuple(value_range) != (0, 255):
        # Drawing makes uint8 [0, 255] images; rescale first so the gallery rescales nothing.
        images = np.clip(to_0_255(images, value_range), 0, 255).astype("uint8")
        value_range = (0, 255)

    def draw(images, boxes, color, mapping):
        return draw_bounding_boxes(
            images,
            boxes,
            bounding_box_format=bounding_box_format,
            class_mapping=mapping,
            color=color,
            line_thickness=line_thickness,
            text_thickness=text_thickness,
            font_scale=font_scale,
            data_format="channels_last",
        )

    if y_true is not None:
        images = draw(images, y_true, true_color, ground_truth_mapping)
    if y_pred is not None:
        images = draw(images, y_pred, pred_color, prediction_mapping)

    if legend:
        if legend_handles:
            raise ValueError(
                "Only pass `legend` OR `legend_handles` to "
                "`keras.visualization.plot_bounding_box_gallery()`."
            )
        from matplotlib import patches

        legend_handles = [
            patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
            patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction"),
        ]

    return plot_image_gallery(
        images,
        value_range=value_range,
        legend_handles=legend_handles,
        rows=rows,
        cols=cols,
        data_format="channels_last",
        **kwargs,
    )
