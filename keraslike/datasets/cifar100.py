"""CIFAR100 small images classification dataset."""

from keraslike.datasets import _cifar

ARCHIVE = "cifar-100-binary.tar.gz"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
MD5 = "03b5dce01913d631647c71ecec9e9cb8"  # published on the CIFAR homepage
FOLDER = "cifar-100-binary"


def load_data(label_mode="fine", *, download=True):
    """Loads the CIFAR100 dataset.

    This is a dataset of 50,000 32x32 color training images and 10,000 test images,
    labeled over 100 fine-grained classes that are grouped into 20 coarse-grained
    classes. See more info at the
    [CIFAR homepage](https://www.cs.toronto.edu/~kriz/cifar.html).

    keraslike reads the *binary version* (`cifar-100-binary.tar.gz`, no pickle
    involved): records of a coarse label byte, a fine label byte and 3072 pixel
    bytes (channels first), converted to `image_data_format()` (channels last by
    default). The archive is read from the datasets folder
    (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
    `~/.keras/datasets`) without extracting it, its md5 checked on every load; an
    already extracted `cifar-100-binary/` folder there is used when the archive is
    absent. A truncated file is a `ValueError` with the expected and actual sizes.

    Args:
        label_mode: one of `"fine"`, `"coarse"`. If it is `"fine"`, the category
            labels are the fine-grained labels, and if it is `"coarse"`, the output
            labels are the coarse-grained superclasses.
        download: If `True` (default, as Keras), a missing archive is downloaded
            from the CIFAR homepage; if `False`, it is a `FileNotFoundError`. A
            function `(url, destination)` is used to fetch it instead.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of color image data with shape
      `(50000, 32, 32, 3)` (`(50000, 3, 32, 32)` with `"channels_first"`).

    **`y_train`**: `int64` NumPy array of labels (integers in range 0-99, or 0-19
      for `"coarse"`) with shape `(50000, 1)`. (`int64` is what Keras returns,
      although its docstring says `uint8`.)

    **`x_test`**: `uint8` NumPy array of shape `(10000, 32, 32, 3)`.

    **`y_test`**: `int64` NumPy array of labels with shape `(10000, 1)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar100.load_data()
    assert x_train.shape == (50000, 32, 32, 3)
    assert y_train.shape == (50000, 1)
    ```
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            '`label_mode` must be one of `"fine"`, `"coarse"`. '
            f"Received: label_mode={label_mode}."
        )
    raw = _cifar.read_members(ARCHIVE, ORIGIN, MD5, FOLDER, ("train.bin", "test.bin"), download)
    column = 1 if label_mode == "fine" else 0  # each record starts: coarse byte, fine byte
    splits = []
    for name in ("train.bin", "test.bin"):
        labels, images = _cifar.parse_records(raw[name], 2, f"{FOLDER}/{name}")
        y = labels[:, column : column + 1].astype("int64")
        splits.append((_cifar.to_data_format(images), y))
    return tuple(splits)
