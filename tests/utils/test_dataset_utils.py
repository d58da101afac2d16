"""split_dataset on arrays, tuples of arrays and torch Datasets."""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from keraslike.utils import split_dataset


def test_array_split_keeps_order_without_shuffle():
    data = np.arange(20).reshape(10, 2)
    left, right = split_dataset(data, left_size=0.8)
    assert isinstance(left, Dataset) and len(left) == 8 and len(right) == 2
    assert isinstance(left[0], tuple) and len(left[0]) == 1
    np.testing.assert_array_equal(torch.stack([s[0] for s in left]).numpy(), data[:8])
    np.testing.assert_array_equal(torch.stack([s[0] for s in right]).numpy(), data[8:])


def test_tuple_of_arrays_and_sizes():
    x, y = np.random.rand(10, 3).astype("float32"), np.arange(10)
    left, right = split_dataset((x, y), left_size=3, right_size=4)
    assert len(left) == 3 and len(right) == 4  # the 3 samples in between are left out
    xs, ys = left[2]
    np.testing.assert_array_equal(xs.numpy(), x[2])
    assert int(right[0][1]) == 6
    left, right = split_dataset([x, y], right_size=0.3)
    assert (len(left), len(right)) == (7, 3)


def test_shuffle_is_seeded_and_a_partition():
    data = np.arange(50)
    a_left, a_right = split_dataset(data, left_size=0.6, shuffle=True, seed=1)
    b_left, _ = split_dataset(data, left_size=0.6, shuffle=True, seed=1)
    first = [int(s[0]) for s in a_left]
    assert first == [int(s[0]) for s in b_left]
    assert first != list(range(30))
    assert sorted(first + [int(s[0]) for s in a_right]) == list(range(50))


def test_torch_dataset_is_split_without_copy():
    ds = TensorDataset(torch.arange(10.0), torch.arange(10))
    left, right = split_dataset(ds, left_size=4)
    assert left.dataset is ds and len(left) == 4 and len(right) == 6


def test_read_only_arrays_are_accepted():
    data = np.frombuffer(bytes(range(8)), dtype=np.uint8)
    left, _ = split_dataset(data, left_size=0.5)
    assert int(left[0][0]) == 0


@pytest.mark.parametrize(
    "kwargs,error,match",
    [({}, ValueError, "At least one"), ({"left_size": 1.5}, ValueError, "left_size"),
     ({"left_size": 10}, ValueError, "left_size"), ({"right_size": "a"}, TypeError, "right_size"),
     ({"left_size": 0.7, "right_size": 0.6}, ValueError, "greater than 1"),
     ({"left_size": 6, "right_size": 6}, ValueError, "sum"),
     ({"left_size": 0.01}, ValueError, "empty"), ({"left_size": 1, "preferred_backend": "tensorflow"}, ValueError, "torch")],
)
def test_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset(np.arange(10), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset((np.arange(3), np.arange(4)), left_size=1)
    with pytest.raises(ValueError, match="numpy.ndarray"):
        split_dataset([np.arange(3), [1, 2, 3]], left_size=1)
    with pytest.raises(TypeError, match="dataset"):
        split_dataset("abc", left_size=1)
