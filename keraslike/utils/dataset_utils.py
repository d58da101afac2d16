"""`split_dataset`: split arrays or a torch `Dataset` into two torch `Dataset`s."""

import numbers

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset


def split_dataset(
    dataset,
    left_size=None,
    right_size=None,
    shuffle=False,
    seed=None,
    preferred_backend=None,
):
    """Splits a dataset into a left half and a right half (e.g. train / test).

    As with Keras on its torch backend, the two halves are
    `torch.utils.data.Dataset` objects (`torch.utils.data.Subset` views, which copy
    no data): ready for `fit` or a `torch.utils.data.DataLoader`. A NumPy array or
    a list/tuple of arrays is first wrapped in a `TensorDataset` sharing its memory,
    so each sample is a tuple of tensors (a 1-tuple for a single array), e.g.
    `x, y = left[0]`.

    Unlike Keras on torch (which always shuffles through `random_split`), the
    order is kept when `shuffle=False`: the left half is the first `left_size`
    samples and the right half the last `right_size`. When both sizes are given and
    add up to less than the whole, the samples in between are left out.

    Args:
        dataset: A `torch.utils.data.Dataset` with a length, a NumPy array (or torch
            tensor), or a list/tuple of arrays with the same first dimension.
        left_size: Float in `(0, 1)`: the fraction of the samples in the left half;
            int: their number. If `None`, the complement of `right_size`.
        right_size: Same, for the right half. If `None`, the complement of
            `left_size`.
        shuffle: Whether to shuffle the samples before splitting.
        seed: Random seed for the shuffle (a fresh random one if `None`).
        preferred_backend: Accepted for Keras compatibility: `None` or `"torch"`.

    Returns:
        A tuple `(left, right)` of `torch.utils.data.Subset` datasets.

    Example:

    >>> data = np.random.random(size=(1000, 4))
    >>> left, right = keras.utils.split_dataset(data, left_size=0.8)
    >>> len(left), len(right)
    (800, 200)
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(
            "keraslike runs on torch: `preferred_backend` must be None or 'torch'. "
            f"Received: preferred_backend={preferred_backend!r}"
        )
    dataset = _as_torch_dataset(dataset)
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    total = len(dataset)
    left_size, right_size = _rescale_split_sizes(left_size, right_size, total)

    if shuffle:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(int(seed))
        order = torch.randperm(total, generator=generator).tolist()
    else:
        order = list(range(total))
    return Subset(dataset, order[:left_size]), Subset(dataset, order[total - right_size :])


def _as_torch_dataset(dataset):
    if isinstance(dataset, Dataset):
        if not hasattr(dataset, "__len__"):
            raise TypeError(
                "`split_dataset` needs a dataset with a length (a map-style "
                f"`torch.utils.data.Dataset`). Received: {type(dataset).__name__}"
            )
        return dataset
    if isinstance(dataset, (np.ndarray, torch.Tensor)):
        return TensorDataset(_to_tensor(dataset))
    if isinstance(dataset, (list, tuple)):
        kind = type(dataset).__name__
        if not dataset:
            raise ValueError(
                f"Received an empty {kind} dataset. Please provide a non-empty {kind} of arrays."
            )
        tensors = []
        for i, element in enumerate(dataset):
            if not isinstance(element, (np.ndarray, torch.Tensor)):
                raise ValueError(
                    f"Expected a {kind} of `numpy.ndarray` objects. "
                    f"Received: {type(element)} at index {i}."
                )
            if element.shape[:1] != dataset[0].shape[:1]:
                raise ValueError(
                    f"Received a {kind} of arrays with different lengths. Mismatch found at "
                    f"index {i}: expected shape={tuple(dataset[0].shape)}, received "
                    f"shape={tuple(element.shape)}. Please provide arrays of the same length."
                )
            tensors.append(_to_tensor(element))
        return TensorDataset(*tensors)
    raise TypeError(
        "The `dataset` argument must be a `torch.utils.data.Dataset` object, a NumPy "
        f"array, or a list/tuple of arrays. Received: dataset of type {type(dataset)}"
    )


def _to_tensor(array):
    if isinstance(array, torch.Tensor):
        return array
    if not array.flags.writeable:  # torch.from_numpy warns on read-only memory
        array = array.copy()
    return torch.from_numpy(array)


def _rescale_split_sizes(left_size, right_size, total):
    """Turns fractions into counts and checks them; returns `(left, right)` ints."""
    sizes = {"left_size": left_size, "right_size": right_size}
    for name, size in sizes.items():
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Real):
            raise TypeError(
                f"Invalid `{name}` type. Expected: int or float or None. "
                f"Received: type({name})={type(size)}"
            )
        integral = isinstance(size, numbers.Integral)
        if (integral and not 0 < size < total) or (not integral and not 0 < size < 1):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total}, or a "
                f"float within the range `[0, 1]`. Received: {name}={size}"
            )
    if (
        left_size is not None
        and right_size is not None
        and not isinstance(left_size, numbers.Integral)
        and not isinstance(right_size, numbers.Integral)
        and left_size + right_size > 1
    ):
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. "
            "It must be less than or equal to 1."
        )

    def count(size):
        if size is None or isinstance(size, numbers.Integral):
            return size
        return round(size * total)

    left, right = count(left_size), count(right_size)
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right} and total_length = {total}"
        )
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left_size} and "
                f"`right_size`={right_size}, the resulting {side} side dataset split will be "
                "empty. Adjust any of the aforementioned parameters."
            )
    return int(left), int(right)
