"""California housing price regression dataset."""

import numpy as np

from keraslike.datasets import _files

ORIGIN = _files.KERAS_ORIGIN + "california_housing.npz"
SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
SMALL_SIZE = 600  # Keras's "small" version: the file's first 600 rows, before shuffling


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113, *,
              download=True):
    """Loads the California Housing dataset.

    This dataset was obtained from the [StatLib repository](
    https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.html).

    It's a continuous regression dataset with 20,640 samples with 8 features each
    (median income, house age, average rooms, average bedrooms, population, average
    occupancy, latitude, longitude of a census block group, 1990 U.S. census). The
    target is the median house value for the block group, in dollars.

    The file is Keras's `california_housing.npz` (arrays `x` and `y`), read with
    `np.load(allow_pickle=False)` and checked against its sha256. The `"small"` cut,
    the shuffle and the split are Keras's, so the arrays equal Keras's for the same
    `version`, `test_split` and `seed`.

    Args:
        version: `"small"` or `"large"`. The small version contains 600 samples (the
            file's first 600), the large version contains 20,640 samples. The small
            version serves as an approximate replacement for the deprecated
            `boston_housing` dataset.
        path: Where the file is cached, relative to the datasets folder
            (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
            `~/.keras/datasets`), or an absolute path.
        test_split: fraction of the data to reserve as test set.
        seed: Random seed for shuffling the data before computing the test split.
        download: If `True` (default, as Keras), a missing file is downloaded; if
            `False`, it is a `FileNotFoundError`. A function `(url, destination)` is
            used to fetch it instead.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **x_train, x_test**: NumPy arrays with shape `(num_samples, 8)`.

    **y_train, y_test**: NumPy arrays of shape `(num_samples,)`: the targets, float
      scalars typically between 25,000 and 500,000 (home prices in dollars).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = (
    ...     keras.datasets.california_housing.load_data(version="small"))
    >>> x_train.shape
    (480, 8)
    """
    if not 0 <= test_split < 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. "
            "It must be between 0 and 1 (exclusive of 1)."
        )
    if version not in ("small", "large"):
        # Keras checks this after reading the file; here a typo costs no download.
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version}"
        )
    path = _files.fetch(path, ORIGIN, SHA256, download)
    arrays = _files.load_npz(path, ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:SMALL_SIZE], y[:SMALL_SIZE]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (x[:split].copy(), y[:split].copy()), (x[split:].copy(), y[split:].copy())
