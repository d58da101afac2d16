"""PyDataset (alias Sequence) and parallel batch loading."""

import math
import threading
import warnings

import numpy as np
import pytest

from keraslike.utils import PyDataset, Sequence
from keraslike.utils.py_dataset import iter_batches


class ArrayDataset(PyDataset):
    def __init__(self, x, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.batch_size = x, batch_size
        self.threads = set()
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        self.threads.add(threading.get_ident())
        return self.x[idx * self.batch_size : (idx + 1) * self.batch_size]

    def on_epoch_end(self):
        self.epochs_ended += 1


class Endless(PyDataset):
    @property
    def num_batches(self):
        return None

    def __getitem__(self, idx):
        return idx


def test_keras_api_and_alias():
    assert Sequence is PyDataset
    ds = ArrayDataset(np.arange(10), 4, workers=3, max_queue_size=5)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (3, False, 5)
    assert len(ds) == ds.num_batches == 3
    assert [b.tolist() for b in ds] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    ds.on_epoch_end()
    assert ds.epochs_ended == 1
    ds.on_epoch_begin()  # default: does nothing


def test_defaults_match_keras():
    keras = pytest.importorskip("keras")
    ours, theirs = PyDataset(), keras.utils.PyDataset()
    for name in ("workers", "use_multiprocessing", "max_queue_size"):
        assert getattr(ours, name) == getattr(theirs, name)


def test_missing_super_init_warns():
    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

    with pytest.warns(UserWarning, match="super"):
        assert NoSuper().workers == 1


def test_not_implemented_getitem_and_endless_iteration():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        PyDataset()[0]
    with pytest.raises(NotImplementedError, match="num_batches"):
        PyDataset().num_batches
    it = iter(Endless())
    assert [next(it) for _ in range(4)] == [0, 1, 2, 3]


def test_iter_batches_threads_keep_order():
    ds = ArrayDataset(np.arange(100), 7, workers=4, max_queue_size=3)
    batches = list(iter_batches(ds))
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(100))
    assert threading.get_ident() not in ds.threads


def test_iter_batches_shuffle_and_single_worker():
    ds = ArrayDataset(np.arange(20), 5)
    shuffled = [int(b[0]) for b in iter_batches(ds, shuffle=True, seed=0)]
    assert sorted(shuffled) == [0, 5, 10, 15]
    assert shuffled == [int(b[0]) for b in iter_batches(ds, shuffle=True, seed=0)]
    assert ds.threads == {threading.get_ident()}


def test_iter_batches_processes():
    ds = ArrayDataset(np.arange(12), 4, workers=2, use_multiprocessing=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads, Python 3.12+
        batches = list(iter_batches(ds))
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(12))


def test_iter_batches_can_stop_early_on_endless_dataset():
    gen = iter_batches(Endless(workers=2, max_queue_size=2))
    assert [next(gen) for _ in range(5)] == [0, 1, 2, 3, 4]
    gen.close()
