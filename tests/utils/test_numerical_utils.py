"""to_categorical and normalize against Keras: NumPy in -> NumPy out, torch in -> torch out."""

import numpy as np
import pytest
import torch

from keraslike.utils import normalize, to_categorical


@pytest.fixture(scope="module")
def kutils():
    return pytest.importorskip("keras").utils


@pytest.mark.parametrize(
    "x,num_classes",
    [([0, 1, 2, 3], 4), ([0, 2, 1], None), (np.array([[1], [0], [3]]), None), (np.array([[0, 1], [2, 2]]), 5),
     (np.array(3), None), (np.array([3]), 6), ((1, 0), 2)],
)
def test_to_categorical_numpy_matches_keras(kutils, x, num_classes):
    ours, theirs = to_categorical(x, num_classes), kutils.to_categorical(x, num_classes)
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype == np.float64
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("x", [torch.tensor([0, 1, 2]), torch.tensor([[0], [3], [1]]), torch.tensor([0, -1, 2]),
                               torch.tensor([[0, 1], [2, 3]])])
def test_to_categorical_torch_matches_keras(kutils, x):
    ours, theirs = to_categorical(x, 4), kutils.to_categorical(x, 4)
    assert isinstance(ours, torch.Tensor) and ours.dtype == theirs.dtype == torch.int64
    assert ours.shape == theirs.shape
    assert torch.equal(ours, theirs)


def test_to_categorical_torch_infers_num_classes():
    out = to_categorical(torch.tensor([0, 2]))
    assert out.shape == (2, 3)  # Keras raises a TypeError here


@pytest.mark.parametrize(
    "x,axis,order",
    [(np.array([[3.0, 4.0], [0.0, 0.0]]), -1, 2), (np.array([[3, 4], [1, 0]]), 0, 1), (np.array([3.0, 4.0]), 0, 2),
     (np.random.default_rng(0).normal(size=(3, 4, 5)), 1, 2), (np.array([[3, 4], [0, 0]]), None, 2),
     (np.random.default_rng(1).normal(size=(4, 6)).astype("float32"), -1, 3)],
)
def test_normalize_numpy_matches_keras(kutils, x, axis, order):
    ours, theirs = normalize(x, axis, order), kutils.normalize(x, axis, order)
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(
    "x,axis,order",
    [(torch.tensor([[3.0, 4.0], [0.0, 0.0]]), -1, 2), (torch.tensor([[3, 4], [0, 0]]), -1, 2),
     (torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0)), 1, 2),
     (torch.tensor([[3.0, 4.0], [1.0, 0.0]]), 0, 1), (torch.tensor(3.0), -1, 2)],
)
def test_normalize_torch_matches_keras(kutils, x, axis, order):
    ours, theirs = normalize(x, axis, order), kutils.normalize(x, axis, order)
    assert isinstance(ours, torch.Tensor) and ours.dtype == theirs.dtype and ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=0)


def test_normalize_torch_rejects_bad_order():
    with pytest.raises(ValueError, match="order"):
        normalize(torch.ones(3), order=0)
