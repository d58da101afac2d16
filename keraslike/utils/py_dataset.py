"""`PyDataset` (alias `Sequence`): a batch-indexed dataset written in Python, as in Keras 3."""

import collections
import concurrent.futures
import itertools
import random
import warnings


class PyDataset:
    """Base class for a dataset of batches written in Python, optionally loaded in parallel.

    Every `PyDataset` implements `__getitem__(index)`, which returns a complete
    batch (not one sample), and `__len__()`, the number of batches (or, for an
    endless dataset, overrides `num_batches` to return `None`). To change the data
    between epochs, also implement `on_epoch_end()` (or `on_epoch_begin()`), which
    `fit` calls at each epoch's end (start).

    `workers`, `use_multiprocessing` and `max_queue_size` say how `fit` (and
    `iter_batches`) load batches in parallel; iterating over the dataset yourself
    (`for batch in dataset`) loads them one by one in this thread.

    Args:
        workers: Number of workers loading batches in parallel (threads, or
            processes with `use_multiprocessing=True`). 1 loads in the caller's thread.
        use_multiprocessing: Whether the workers are processes (for CPU-bound Python
            code) instead of threads. The dataset is then copied into each process,
            so it must be picklable where processes are spawned (macOS, Windows).
        max_queue_size: Maximum number of batches loaded ahead of use.

    Example:

    ```python
    class ArrayDataset(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)  # number of batches

        def __getitem__(self, idx):
            low = idx * self.batch_size
            high = min(low + self.batch_size, len(self.x))  # the last batch may be short
            return self.x[low:high], self.y[low:high]
    ```
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = False
        for name, default in (
            ("_workers", 1),
            ("_use_multiprocessing", False),
            ("_max_queue_size", 10),
        ):
            if not hasattr(self, name):
                setattr(self, name, default)
                missing = True
        if missing:
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will "
                "be ignored.",
                stacklevel=3,
            )

    @property
    def workers(self):
        """Number of parallel workers used to load batches."""
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        """Whether the workers are processes rather than threads."""
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """Maximum number of batches loaded ahead of use."""
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Returns the batch at position `index` (an int from 0 to `num_batches - 1`)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__getitem__(self, index)`, "
            "returning one batch."
        )

    def __iter__(self):
        try:
            num_batches = self.num_batches
        except NotImplementedError:
            num_batches = None
        indices = itertools.count() if num_batches is None else range(num_batches)
        for index in indices:
            yield self[index]

    @property
    def num_batches(self):
        """Number of batches, or `None` for an endless dataset.

        Defaults to `len(self)`; override it (instead of `__len__`) for a dataset
        without an end.
        """
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def on_epoch_begin(self):
        """Called at the beginning of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset


def iter_batches(dataset, shuffle=False, seed=None):
    """Yields the batches of a `PyDataset` for one epoch, loading ahead in parallel.

    With `workers > 1` (or `use_multiprocessing=True`) up to `max_queue_size`
    batches are loaded ahead by a pool of threads (or processes); batches still come
    out in order. The epoch hooks (`on_epoch_begin` / `on_epoch_end`) are not called
    here: that is the training loop's job.

    Args:
        dataset: A `PyDataset`.
        shuffle: Whether to visit the batches in a random order (finite datasets).
        seed: Seed for that order.

    Yields:
        The batches, as returned by `dataset[index]`.
    """
    try:
        num_batches = dataset.num_batches
    except NotImplementedError:
        num_batches = None
    if num_batches is None:
        indices = itertools.count()
    else:
        indices = list(range(num_batches))
        if shuffle:
            random.Random(seed).shuffle(indices)
    workers = max(int(dataset.workers or 1), 1)
    if workers == 1 and not dataset.use_multiprocessing:
        for index in indices:
            yield dataset[index]
        return

    if dataset.use_multiprocessing:
        pool = concurrent.futures.ProcessPoolExecutor(
            workers, initializer=_set_worker_dataset, initargs=(dataset,)
        )
        load = _load_in_worker
    else:
        pool = concurrent.futures.ThreadPoolExecutor(workers)
        load = dataset.__getitem__
    ahead = max(int(dataset.max_queue_size or 1), 1)
    pending = collections.deque()
    indices = iter(indices)
    try:
        for index in itertools.islice(indices, ahead):
            pending.append(pool.submit(load, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(load, index))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


_WORKER_DATASET = None


def _set_worker_dataset(dataset):
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _load_in_worker(index):
    return _WORKER_DATASET[index]
