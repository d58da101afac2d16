"""Fashion-MNIST dataset."""

from keraslike.datasets import _files
from keraslike.datasets._idx import read_idx_gz

# The four IDX files and their md5 (Keras gives no hash; these are the dataset
# authors' published checksums, as used by torchvision).
FILES = {
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
}
SUBDIR = "fashion-mnist"


def load_data(*, download=True):
    """Loads the Fashion-MNIST dataset.

    This is a dataset of 60,000 28x28 grayscale images of 10 fashion categories,
    along with a test set of 10,000 images. This dataset can be used as a drop-in
    replacement for MNIST.

    The classes are:

    | Label | Description |
    |:-----:|-------------|
    |   0   | T-shirt/top |
    |   1   | Trouser     |
    |   2   | Pullover    |
    |   3   | Dress       |
    |   4   | Coat        |
    |   5   | Sandal      |
    |   6   | Shirt       |
    |   7   | Sneaker     |
    |   8   | Bag         |
    |   9   | Ankle boot  |

    The four gzip-compressed IDX files (`train-images-idx3-ubyte.gz`, ...) are read
    from the `fashion-mnist/` sub-folder of the datasets folder
    (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
    `~/.keras/datasets`: where Keras caches them). Their md5 is checked on every
    load, and a truncated file is a `ValueError` giving the expected and actual sizes.

    Args:
        download: If `True` (default, as Keras), missing files are downloaded; if
            `False`, a missing file is a `FileNotFoundError`. A function
            `(url, destination)` is used to fetch them instead (e.g. a mirror).

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`**: `uint8` NumPy array of grayscale image data with shape
      `(60000, 28, 28)`, containing the training data.

    **`y_train`**: `uint8` NumPy array of labels (integers in range 0-9) with shape
      `(60000,)` for the training data.

    **`x_test`**: `uint8` NumPy array of grayscale image data with shape
      `(10000, 28, 28)`, containing the test data.

    **`y_test`**: `uint8` NumPy array of labels with shape `(10000,)`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28)
    ```

    License:

    The copyright for Fashion-MNIST is held by Zalando SE. Fashion-MNIST is
    licensed under the [MIT license](
    https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE).
    """
    paths = {
        name: _files.fetch(name, _files.KERAS_ORIGIN + name, md5, download, subdir=SUBDIR)
        for name, md5 in FILES.items()
    }
    splits = []
    for prefix in ("train", "t10k"):
        labels = read_idx_gz(paths[f"{prefix}-labels-idx1-ubyte.gz"], ndim=1)
        images_path = paths[f"{prefix}-images-idx3-ubyte.gz"]
        images = read_idx_gz(images_path, ndim=3)
        if len(images) != len(labels):
            raise ValueError(
                f"{images_path} holds {len(images)} images but its labels file holds "
                f"{len(labels)} labels."
            )
        splits.append((images, labels))
    return tuple(splits)
