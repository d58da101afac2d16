"""`keras.visualization.plot_image_gallery` (matplotlib is imported on first use)."""

import math

import numpy as np

from keraslike.visualization._common import import_pyplot, resolve_data_format, to_0_255, to_numpy


def _grid(batch_size, rows, cols):
    """`(rows, cols)` with Keras's defaults: a near-square grid holding every image.

    Keras computes the default `cols` as `ceil(batch_size // rows)` and so drops images when the
    batch does not fill its rows (3 images give a 2 x 1 grid); here `cols` is
    `ceil(batch_size / rows)`, the same grid whenever Keras shows every image.
    """
    rows = rows or int(math.ceil(math.sqrt(batch_size)))
    cols = cols or int(math.ceil(batch_size / rows))
    return rows, cols


def _title(index, y_true, y_pred, label_map):
    parts = []
    if y_true is not None and index < len(y_true):
        parts.append(f"Label: {label_map.get(y_true[index], 'Unknown')}")
    if y_pred is not None and index < len(y_pred):
        parts.append(f"Pred: {label_map.get(y_pred[index], 'Unknown')}")
    return "  ".join(parts)


def plot_image_gallery(
    images,
    y_true=None,
    y_pred=None,
    label_map=None,
    rows=None,
    cols=None,
    value_range=(0, 255),
    scale=2,
    path=None,
    show=None,
    transparent=True,
    dpi=60,
    legend_handles=None,
    data_format=None,
):
    """Displays a gallery of images with optional labels and predictions.

    Requires matplotlib. The figure has `rows * cols` axes (cells beyond the
    last image stay empty); each shows one image as uint8 in `[0, 255]`,
    without axis lines, titled `"Label: <name>  Pred: <name>"` when labels are
    given.

    Args:
        images: A 4D tensor or NumPy array of images. Shape should be
            `(batch_size, height, width, channels)` (or channels first, see
            `data_format`); one-channel images are shown in grey.
        y_true: A 1D tensor or NumPy array of true labels (class indices).
            Defaults to `None`.
        y_pred: A 1D tensor or NumPy array of predicted labels (class indices).
            Defaults to `None`.
        label_map: A dictionary mapping class indices to class names.
            Required if `y_true` or `y_pred` are provided. Defaults to `None`.
        rows: The number of rows in the gallery. If `None`, it's
            `ceil(sqrt(batch_size))`. Defaults to `None`.
        cols: The number of columns in the gallery. If `None`, enough columns
            to hold every image. Defaults to `None`.
        value_range: A tuple specifying the value range of the images
            (e.g., `(0, 255)` or `(0, 1)`). Defaults to `(0, 255)`.
        scale: A float controlling the size of the displayed images: each
            cell is `scale` inches square. Defaults to `2`.
        path: The path to save the generated gallery image. If `None`, the
            image is displayed using `plt.show()`. Defaults to `None`.
        show: Whether to display the image using `plt.show()`. Defaults to
            `True` if `path` is `None`, `False` otherwise. With `show=False`
            and no `path`, the figure is left open (`plt.gcf()`).
        transparent: A boolean, whether to save the figure with a transparent
            background. Defaults to `True`.
        dpi: The DPI (dots per inch) for saving the figure. Defaults to 60.
        legend_handles: A list of matplotlib `Patch` objects to use as legend
            handles. Defaults to `None`.
        data_format: The image data format `"channels_last"` or
            `"channels_first"`. Defaults to `keras.config.image_data_format()`.

    Raises:
        ValueError: If both `path` and `show` are set, if `images` is not a
            4D tensor or array, or if `y_true` or `y_pred` are provided
            without a `label_map`.
        ImportError: If matplotlib is not installed.

    Example:

    >>> images = np.random.randint(0, 256, size=(4, 8, 8, 3))
    >>> keras.visualization.plot_image_gallery(images, show=False)
    >>> len(plt.gcf().axes)
    4
    """
    plt = import_pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError(
            "If `y_true` or `y_pred` are provided, a `label_map` must also be provided."
        )
    show = show if show is not None else path is None
    data_format = resolve_data_format(data_format)
    images = to_numpy(images)
    if images.ndim != 4:
        raise ValueError(
            "`plot_images_gallery()` requires you to batch your `np.array` samples together. "
            f"Received: images.shape={images.shape}"
        )
    rows, cols = _grid(images.shape[0], rows, cols)
    images = images[: rows * cols]
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    images = to_0_255(images, value_range)
    y_true = None if y_true is None else to_numpy(y_true)
    y_pred = None if y_pred is None else to_numpy(y_pred)

    fig, axes = plt.subplots(
        nrows=rows,
        ncols=cols,
        figsize=(cols * scale, rows * scale),
        frameon=False,
        layout="tight",
        squeeze=False,
        sharex="row",
        sharey="col",
    )
    fig.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")

    for index, axis in enumerate(axes.flat):
        if index < len(images):
            image = np.clip(images[index], 0, 255).astype("uint8")
            if image.shape[-1] == 1:
                axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
            else:
                axis.imshow(image)
        axis.margins(x=0, y=0)
        axis.axis("off")
        title = _title(index, y_true, y_pred, label_map) if index < len(images) else ""
        if title:
            axis.set_title(title, fontsize=8)

    if path is not None:
        fig.savefig(path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close(fig)
    elif show:
        plt.show()
        plt.close(fig)
