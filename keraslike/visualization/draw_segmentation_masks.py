"""`keras.visualization.draw_segmentation_masks`."""

import numpy as np
import torch

from keraslike.visualization._common import (
    require_batched_images,
    resolve_data_format,
    to_numpy,
)


def _generate_color_palette(num_classes):
    """Keras's default palette: class `i` gets `(i * (2**25-1, 2**15-1, 2**21-1)) % 255`."""
    palette = np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])
    return [((i * palette) % 255).tolist() for i in range(num_classes)]


def _class_masks(segmentation_masks, images, data_format):
    """The masks as an integer array `(batch, height, width)` matching `images` (channels last)."""
    masks = to_numpy(segmentation_masks)
    if masks.dtype.kind not in "iu":
        raise TypeError(
            f"`segmentation_masks` must be in integer dtype. Received: "
            f"segmentation_masks.dtype={masks.dtype.name}"
        )
    if masks.ndim == 4:
        channel_axis = 1 if data_format == "channels_first" else 3
        if masks.shape[channel_axis] != 1:
            raise ValueError(
                "`segmentation_masks` must have shape (batch_size, height, width) or one "
                f"channel. Received: segmentation_masks.shape={masks.shape}"
            )
        masks = masks.squeeze(channel_axis)
    if masks.shape != images.shape[:3]:
        raise ValueError(
            "`segmentation_masks` must have the batch size, height and width of `images` "
            f"{images.shape[:3]}. Received: segmentation_masks.shape={masks.shape}"
        )
    return masks


def draw_segmentation_masks(
    images,
    segmentation_masks,
    num_classes=None,
    color_mapping=None,
    alpha=0.8,
    blend=True,
    ignore_index=-1,
    data_format=None,
):
    """Draws segmentation masks on images.

    The function overlays segmentation masks on the input images.
    The masks are blended with the images using the specified alpha value.
    Class `c` (for `0 <= c < num_classes`, class 0 included) is painted in
    colour `c`; other values (negative ones, `ignore_index`) leave the pixel
    as it is.

    Args:
        images: A batch of images as a 4D tensor or NumPy array. Shape
            should be `(batch_size, height, width, channels)`.
        segmentation_masks: A batch of segmentation masks as a 3D or 4D
            integer tensor or NumPy array. Shape should be
            `(batch_size, height, width)` or `(batch_size, height, width, 1)`.
            The values are class indices.
        num_classes: The number of segmentation classes. If `None`, it is
            inferred as the maximum value in `segmentation_masks` plus one.
        color_mapping: A dictionary mapping each class index
            `0, ..., num_classes - 1` to an RGB colour. If `None`, a default
            colour palette is generated.
        alpha: The opacity of the segmentation masks, in `[0, 1]`.
        blend: Whether to blend the masks with the input image using the
            `alpha` value. If `False`, the masks are drawn directly on the
            images without blending. Defaults to `True`.
        ignore_index: The class index to ignore. Mask pixels with this value
            keep the image's value. Defaults to `-1`.
        data_format: Image data format, either `"channels_last"` or
            `"channels_first"`. Defaults to `keras.config.image_data_format()`.

    Returns:
        A NumPy array `(batch_size, height, width, channels)` (channels last
        whatever `data_format`, as in Keras) of the images with the masks
        overlaid: uint8 when `blend=True`, else float32.

    Raises:
        ValueError: If `images` is not a 4D tensor or array, if the masks'
            shape does not match the images, or if a mask value is at least
            `num_classes`.
        TypeError: If `segmentation_masks` is not an integer type.
        KeyError: If `color_mapping` lacks a class below `num_classes`.

    Example:

    >>> images = np.full((1, 2, 2, 3), 100, dtype="uint8")
    >>> masks = np.array([[[0, 1], [2, -1]]], dtype="int32")
    >>> keras.visualization.draw_segmentation_masks(images, masks)[0, 0, 1]
    array([ 20, 121,  44], dtype=uint8)
    """
    data_format = resolve_data_format(data_format)
    images = require_batched_images(images)
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    masks = _class_masks(segmentation_masks, images, data_format)
    channels = images.shape[-1]

    if num_classes is None:
        num_classes = int(masks.max()) + 1 if masks.size else 0
    num_classes = int(num_classes)
    if masks.size and masks.max() >= num_classes:
        raise ValueError(
            f"`segmentation_masks` holds class {int(masks.max())}, but "
            f"num_classes={num_classes}: class indices must be below `num_classes`."
        )
    if color_mapping is None:
        colors = _generate_color_palette(num_classes)
    else:
        missing = [c for c in range(num_classes) if c not in color_mapping]
        if missing:
            raise KeyError(
                f"`color_mapping` needs a colour for every class 0..{num_classes - 1}; "
                f"missing: {missing}. Received: color_mapping={color_mapping}"
            )
        colors = [color_mapping[c] for c in range(num_classes)]

    images = images.astype(np.float32)
    painted = images.copy()
    for class_index, color in enumerate(colors):
        color = np.asarray(color, dtype=np.float32).reshape(-1)
        if color.shape[0] != channels:
            raise ValueError(
                f"The colour of class {class_index} has {color.shape[0]} values but the images "
                f"have {channels} channels. Received: color={color.tolist()}"
            )
        painted[masks == class_index] = color
    if not blend:
        return painted

    # torch float32 arithmetic and casting, the same operations as Keras on torch.
    images_t = torch.from_numpy(images)
    painted_t = torch.from_numpy(painted)
    valid = torch.from_numpy(masks != ignore_index)[..., None]
    blended = images_t * (1 - alpha) + painted_t * alpha
    return torch.where(valid, blended, images_t).to(torch.uint8).numpy()
