"""Boston housing price regression dataset."""

import numpy as np

from keraslike.datasets import _files

ORIGIN = _files.KERAS_ORIGIN + "boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, *, download=True):
    """Loads the Boston Housing dataset.

    This is a dataset taken from the StatLib library which is maintained at
    Carnegie Mellon University.

    **WARNING:** This dataset has an ethical problem: the authors of this dataset
    included a variable, "B", that may appear to assume that racial
    self-segregation influences house prices. As such, we strongly discourage the
    use of this dataset, unless in the context of illustrating ethical issues in
    data science and machine learning.

    Samples contain 13 attributes of houses at different locations around the
    Boston suburbs in the late 1970s. Targets are the median values of the houses
    at a location (in k$). The attributes themselves are defined in the
    [StatLib website](http://lib.stat.cmu.edu/datasets/boston).

    The file is Keras's `boston_housing.npz`, read with `np.load(allow_pickle=False)`
    and checked against its sha256; the shuffle and split are Keras's, so the
    arrays are identical to Keras's for the same `test_split` and `seed`.

    Args:
        path: Where the file is cached, relative to the datasets folder
            (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
            `~/.keras/datasets`), or an absolute path.
        test_split: fraction of the data to reserve as test set.
        seed: Random seed for shuffling the data before computing the test split.
        download: If `True` (default, as Keras), a missing file is downloaded; if
            `False`, it is a `FileNotFoundError`. A function `(url, destination)`
            is used to fetch it instead.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **x_train, x_test**: `float64` NumPy arrays with shape `(num_samples, 13)`.

    **y_train, y_test**: `float64` NumPy arrays of shape `(num_samples,)`: the target
      prices, typically between 10 and 50 (in k$).
    """
    if not 0 <= test_split < 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. "
            "It must be between 0 and 1 (exclusive of 1)."
        )
    path = _files.fetch(path, ORIGIN, SHA256, download)
    arrays = _files.load_npz(path, ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (x[:split].copy(), y[:split].copy()), (x[split:].copy(), y[split:].copy())
