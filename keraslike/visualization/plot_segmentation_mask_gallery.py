"""`keras.visualization.plot_segmentation_mask_gallery` (matplotlib is imported on first use)."""

import numpy as np

from keraslike.visualization._common import (
    import_pyplot,
    require_batched_images,
    resolve_data_format,
    to_0_255,
    to_numpy,
)
from keraslike.visualization.draw_segmentation_masks import draw_segmentation_masks
from keraslike.visualization.plot_image_gallery import plot_image_gallery


def _channels_last_masks(masks, data_format):
    masks = to_numpy(masks)
    if data_format == "channels_first" and masks.ndim == 4:
        masks = masks.transpose(0, 2, 3, 1)
    return masks.astype("int32")


def plot_segmentation_mask_gallery(
    images,
    num_classes,
    value_range=(0, 255),
    y_true=None,
    y_pred=None,
    color_mapping=None,
    blend=True,
    alpha=0.8,
    ignore_index=-1,
    data_format=None,
    **kwargs,
):
    """Plots a gallery of images with corresponding segmentation masks.

    One row per image: the image, then the image with the `y_true` masks
    drawn (if given), then with the `y_pred` masks (if given), each drawn with
    `keras.visualization.draw_segmentation_masks`.

    Args:
        images: A 4D tensor or NumPy array of images. Shape should be
            `(batch_size, height, width, channels)` (or channels first, see
            `data_format`).
        num_classes: The number of segmentation classes; mask values are class
            indices below it (class 0 is painted too).
        value_range: A tuple specifying the value range of the images
            (e.g., `(0, 255)` or `(0, 1)`). Defaults to `(0, 255)`.
        y_true: A 3D/4D tensor or NumPy array representing the ground truth
            segmentation masks. Shape should be `(batch_size, height, width)` or
            `(batch_size, height, width, 1)`. Defaults to `None`.
        y_pred: A 3D/4D tensor or NumPy array representing the predicted
            segmentation masks. Shape should be the same as `y_true`.
            Defaults to `None`.
        color_mapping: A dictionary mapping class indices to RGB colors.
            If `None`, a default color palette is used. Defaults to `None`.
        blend: Whether to blend the masks with the input image using the
            `alpha` value. If `False`, the masks are drawn directly on the
            images without blending. Defaults to `True`.
        alpha: The opacity of the segmentation masks (a float between 0 and 1).
            Defaults to `0.8`.
        ignore_index: The class index to ignore when drawing masks.
            Defaults to `-1`.
        data_format: The image data format `"channels_last"` or
            `"channels_first"`. Defaults to `keras.config.image_data_format()`.
        **kwargs: Additional keyword arguments to be passed to
            `keras.visualization.plot_image_gallery`.

    Returns:
        The output of `keras.visualization.plot_image_gallery`.

    Raises:
        ValueError: If `images` is not a 4D tensor/array.
        ImportError: If matplotlib is not installed.

    Example:

    >>> images = np.full((2, 8, 8, 3), 100, dtype="uint8")
    >>> masks = np.zeros((2, 8, 8, 1), dtype="int32")
    >>> keras.visualization.plot_segmentation_mask_gallery(
    ...     images, num_classes=2, y_true=masks, show=False)
    """
    import_pyplot("plot_segmentation_mask_gallery")
    data_format = resolve_data_format(data_format)
    images = require_batched_images(images)
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    masks = [m for m in (y_true, y_pred) if m is not None]
    if masks and tuple(value_range) != (0, 255):
        # Mask colours are in [0, 255]; bring the images there so both share one range.
        images = to_0_255(images, value_range)
        value_range = (0, 255)

    drawn = [
        draw_segmentation_masks(
            images,
            _channels_last_masks(m, data_format),
            num_classes=num_classes,
            color_mapping=color_mapping,
            alpha=alpha,
            blend=blend,
            ignore_index=ignore_index,
            data_format="channels_last",
        )
        for m in masks
    ]
    gallery = []
    for i in range(images.shape[0]):
        gallery.append(images[i])
        gallery.extend(d[i] for d in drawn)
    return plot_image_gallery(
        np.stack(gallery, axis=0),
        value_range=value_range,
        rows=images.shape[0],
        cols=1 + len(drawn),
        data_format="channels_last",
        **kwargs,
    )
