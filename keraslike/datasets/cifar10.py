"""CIFAR10 small images classification dataset."""

import numpy as np

from keraslike.datasets import _cifar

ARCHIVE = "cifar-10-binary.tar.gz"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # published on the CIFAR homepage
FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"


def load_data(*, download=True):
    """Loads the CIFAR10 dataset.

    This is a dataset of 50,000 32x32 color training images and 10,000 test images,
    labeled over 10 categories. See more info at the
    [CIFAR homepage](https://www.cs.toronto.edu/~kriz/cifar.html).

    The classes are:

    | Label | Description |
    |:-----:|-------------|
    |   0   | airplane    |
    |   1   | automobile  |
    |   2   | bird        |
    |   3   | cat         |
    |   4   | deer        |
    |   5   | dog         |
    |   6   | frog        |
    |   7   | horse       |
    |   8   | ship        |
    |   9   | truck       |

    Unlike Keras, which reads the pickled "python version", keraslike reads the
    *binary version* (`cifar-10-binary.tar.gz`, no pickle involved): records of one
    label byte followed by 3072 pixel bytes (channels first), converted to
    `image_data_format()` (channels last by default). The archive is read from the
    datasets folder (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
    `~/.keras/datasets`) without extracting it, its md5 checked on every load; an
    already extracted `cifar-10-batches-bin/` folder there is used when the archive
    is absent. A truncated file is a `ValueError` with the expected and actual sizes.

    Args:
        download: If `True` (default, as Keras), a missing archive is downloaded
            from the CIFAR homepage; if `False`, it is a `FileNotFoundError`. A
            function `(url, destination)` is used to fetch it instead (e.g. a mirror).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of color image data with shape
      `(50000, 32, 32, 3)` (`(50000, 3, 32, 32)` with `"channels_first"`).
      Pixel values range from 0 to 255.

    **`y_train`**: `uint8` NumPy array of labels (integers in range 0-9) with shape
      `(50000, 1)`.

    **`x_test`**: `uint8` NumPy array of shape `(10000, 32, 32, 3)`.

    **`y_test`**: `uint8` NumPy array of labels with shape `(10000, 1)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    assert x_train.shape == (50000, 32, 32, 3)
    assert y_train.shape == (50000, 1)
    ```
    """
    raw = _cifar.read_members(ARCHIVE, ORIGIN, MD5, FOLDER, TRAIN_FILES + (TEST_FILE,), download)
    parts = [_cifar.parse_records(raw[name], 1, f"{FOLDER}/{name}") for name in TRAIN_FILES]
    y_train = np.concatenate([labels for labels, _ in parts])
    x_train = _cifar.to_data_format(np.concatenate([images for _, images in parts]))
    y_test, x_test = _cifar.parse_records(raw[TEST_FILE], 1, f"{FOLDER}/{TEST_FILE}")
    return (x_train, y_train), (_cifar.to_data_format(x_test), y_test.copy())
