"""set_random_seed makes Python, NumPy and torch draws repeatable."""

import random

import numpy as np
import pytest
import torch

from keraslike.utils import set_random_seed
from keraslike.utils.rng_utils import get_random_seed


def _draws():
    x = torch.randn(8)
    dropped = torch.nn.functional.dropout(torch.ones(16), p=0.5, training=True)
    loader = torch.utils.data.DataLoader(torch.arange(10), batch_size=5, shuffle=True)
    return random.random(), np.random.rand(3).tolist(), x, dropped, [b.tolist() for b in loader]


def test_same_seed_same_draws():
    set_random_seed(1337)
    first = _draws()
    set_random_seed(1337)
    second = _draws()
    assert first[:2] == second[:2] and first[4] == second[4]
    assert torch.equal(first[2], second[2]) and torch.equal(first[3], second[3])
    set_random_seed(7)
    assert _draws()[0] != first[0]
    assert get_random_seed() == 7


def test_same_numbers_as_keras_for_python_numpy_and_torch():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    theirs = (random.random(), np.random.rand(2).tolist(), torch.rand(2))
    set_random_seed(3)
    ours = (random.random(), np.random.rand(2).tolist(), torch.rand(2))
    assert ours[:2] == theirs[:2] and torch.equal(ours[2], theirs[2])


@pytest.mark.parametrize("seed", [1.5, "3", None, True])
def test_rejects_non_integers(seed):
    with pytest.raises(ValueError, match="integer"):
        set_random_seed(seed)
