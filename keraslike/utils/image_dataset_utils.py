"""`image_dataset_from_directory`: image files in class folders as a batched torch `DataLoader`
(Keras 3's arguments, file order, labels and split; no TensorFlow: Pillow reads the files)."""

import numpy as np
import torch

from keraslike.backend import config
from keraslike.ops import image as ops_image
from keraslike.utils import directory_dataset
from keraslike.utils.image_utils import COLOR_MODES, convert_color_mode, open_image

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Keras accepts these names (TensorFlow's resize methods); its torch backend resizes with the first
# three only, and so does keraslike.
KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                        "gaussian", "mitchellcubic")
TORCH_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


class ImageFileDataset(directory_dataset.FileDataset):
    """Map-style dataset of images read from files and resized to `image_size` (float32)."""

    def __init__(self, file_paths, labels, label_mode, num_classes, image_size, color_mode,
                 interpolation, data_format, crop_to_aspect_ratio, pad_to_aspect_ratio):
        super().__init__(file_paths, labels, label_mode, num_classes)
        self.image_size = tuple(image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.data_format = data_format
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio

    def load(self, path):
        img = convert_color_mode(open_image(path, "image_dataset_from_directory"), self.color_mode)
        array = torch.from_numpy(np.array(img, dtype="float32"))
        if array.ndim == 2:
            array = array[:, :, None]
        if self.data_format == "channels_first":
            array = array.permute(2, 0, 1)
        return ops_image.resize(
            array, self.image_size, interpolation=self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, data_format=self.data_format,
        ).contiguous()


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="torch",
    verbose=True,
):
    """Generates a dataset from image files in a directory.

    With `main_directory/class_a/*.png` and `main_directory/class_b/*.png`,
    `image_dataset_from_directory(main_directory)` yields batches of images with labels 0
    (`class_a`) and 1 (`class_b`). Supported formats: `.jpeg`, `.jpg`, `.png`, `.bmp`, `.gif`
    (animated gifs give their first frame). Files are read with Pillow
    (`pip install keraslike[image]`).

    Instead of a `tf.data.Dataset`, the result is a `torch.utils.data.DataLoader`: `fit`,
    `evaluate` and `predict` take it, it has Keras's `class_names` and `file_paths` attributes,
    its `.dataset` is a map-style `torch.utils.data.Dataset` of `(image, label)` samples
    for a loader of your own (`num_workers`, samplers), and `.map(fn)` passes each batch through
    `fn(images, labels)` as `tf.data.Dataset.map` does (on the host, per batch). File order, labels, class names and the
    training/validation split are Keras's for the same `seed`; with `shuffle` the batches are
    reshuffled each epoch by a generator seeded with `seed`.

    Args:
        directory: Folder with the data (with one subfolder per class if `labels="inferred"`).
        labels: `"inferred"` (from the subfolder names), `None` (no labels), or a list/tuple of
            integer labels, one per image file in the sorted order of the file paths.
        label_mode: `"int"` (int32 labels `(batch,)`), `"categorical"` (float32 one-hot
            `(batch, num_classes)`), `"binary"` (float32 `(batch, 1)`, exactly 2 classes) or
            `None` (images only).
        class_names: With `labels="inferred"`, the subfolders to use, in this label order.
        color_mode: `"grayscale"`, `"rgb"` (default) or `"rgba"`: 1, 3 or 4 channels.
        batch_size: Images per batch (default 32); `None` yields single images.
        image_size: `(height, width)` (or one int) the images are resized to. Default `(256, 256)`.
        shuffle: Whether to shuffle (default `True`); otherwise the sorted file order.
        seed: Random seed for shuffling (required with `validation_split` and `shuffle`).
        validation_split: Fraction of the files reserved for validation.
        subset: `"training"`, `"validation"` or `"both"` (a `(train, validation)` pair).
        interpolation: `"bilinear"` (default), `"nearest"` or `"bicubic"`. Keras's other names
            (`"area"`, `"lanczos3"`, ...) need TensorFlow's resize and raise a ValueError here,
            as on Keras's torch backend.
        follow_links: Whether to visit subfolders that are symbolic links.
        crop_to_aspect_ratio: Center-crop to the target aspect ratio before resizing.
        pad_to_aspect_ratio: Pad (with zeros) to the target aspect ratio before resizing.
        data_format: `"channels_last"` (default `image_data_format()`) or `"channels_first"`.
        format: `"torch"` (default): a `DataLoader`. Keras's `"tf"` and `"grain"` are accepted
            and give the same `DataLoader`.
        verbose: Whether to print how many files and classes were found.

    Returns:
        A `torch.utils.data.DataLoader` yielding float32 images `(batch, height, width,
        channels)` or `(images, labels)`; a pair of them with `subset="both"`.

    Example:

    >>> train, val = keras.utils.image_dataset_from_directory(
    ...     "flowers/", image_size=(180, 180), validation_split=0.2, subset="both", seed=1337)
    >>> train.class_names
    ['daisy', 'roses', 'tulips']
    """
    labels, label_mode = directory_dataset.check_labels_arguments(labels, label_mode, class_names)
    if color_mode not in COLOR_MODES:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
            f"Received: color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    interpolation = str(interpolation).lower()
    if interpolation not in KERAS_INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {KERAS_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if interpolation not in TORCH_INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation`: {interpolation!r} resizes with TensorFlow, which "
            f"keraslike does not use; use one of {TORCH_INTERPOLATIONS} "
            f"(as on Keras's torch backend). Received: interpolation={interpolation}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
        )
    if format not in ("torch", "tf", "grain"):
        raise ValueError(f'`format` should be "torch", "tf" or "grain". Received: format={format}')
    directory_dataset.check_validation_split_arg(validation_split, subset, shuffle, seed)
    settings = dict(
        label_mode=label_mode, image_size=image_size, color_mode=color_mode,
        interpolation=interpolation, data_format=config.standardize_data_format(data_format),
        crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio,
    )
    return directory_dataset.load_directory(
        directory, labels=labels, label_mode=label_mode, class_names=class_names,
        formats=ALLOWLIST_FORMATS, shuffle=shuffle, seed=seed, follow_links=follow_links,
        verbose=verbose, validation_split=validation_split, subset=subset, batch_size=batch_size,
        make_dataset=lambda paths, labels, num_classes: ImageFileDataset(
            paths, labels, num_classes=num_classes, **settings),
        what="images", allowed=f"Allowed formats: {ALLOWLIST_FORMATS}",
    )
