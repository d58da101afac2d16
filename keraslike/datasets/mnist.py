"""MNIST handwritten digits dataset."""

from keraslike.datasets import _files

ORIGIN = _files.KERAS_ORIGIN + "mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", *, download=True):
    """Loads the MNIST dataset.

    This is a dataset of 60,000 28x28 grayscale images of the 10 digits, along with
    a test set of 10,000 images. More info can be found at the
    [MNIST homepage](http://yann.lecun.com/exdb/mnist/).

    The file is Keras's `mnist.npz` (the same file Keras caches, so a copy Keras
    already downloaded is reused), read with `np.load(allow_pickle=False)`. Its
    sha256 is checked on every load; a mismatch is a `ValueError` naming the file.

    Args:
        path: Where the file is cached, relative to the datasets folder
            (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
            `~/.keras/datasets`), or an absolute path.
        download: If `True` (default, as Keras), a missing file is downloaded; if
            `False`, it is a `FileNotFoundError`. A function `(url, destination)` is
            used to fetch it instead of the built-in downloader (e.g. a mirror).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of grayscale image data with shape
      `(60000, 28, 28)`, containing the training data. Pixel values range from 0 to 255.

    **`y_train`**: `uint8` NumPy array of digit labels (integers in range 0-9) with
      shape `(60000,)` for the training data.

    **`x_test`**: `uint8` NumPy array of grayscale image data with shape
      `(10000, 28, 28)`, containing the test data.

    **`y_test`**: `uint8` NumPy array of digit labels with shape `(10000,)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    assert y_test.shape == (10000,)
    ```

    License:

    Yann LeCun and Corinna Cortes hold the copyright of MNIST dataset, which is a
    derivative work from original NIST datasets. MNIST dataset is made available
    under the terms of the [Creative Commons Attribution-Share Alike 3.0
    license.](https://creativecommons.org/licenses/by-sa/3.0/)
    """
    path = _files.fetch(path, ORIGIN, SHA256, download)
    arrays = _files.load_npz(path, ("x_train", "y_train", "x_test", "y_test"))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
