"""Turn what users pass to `fit/evaluate/predict` into batches of device tensors.

In-memory data (numpy arrays, torch tensors, lists/dicts of them) is converted once and moved to
the training device once; each epoch then slices it by index on the device (no per-sample
collation, no DataLoader workers). Datasets, DataLoaders, generators and `PyDataset`s are
iterated as they are, each batch moved to the device.
"""

import math

import numpy as np
import torch

from keraslike.graph import nest


def _describe(x):
    shape = getattr(x, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else type(x).__name__


def to_tensor(x, what, float_dtype=torch.float32):
    """Converts one array-like leaf to a torch tensor (zero-copy where possible).

    Floats become `float_dtype` (Keras converts float64 data to floatx); integers and booleans
    keep their dtype. Strings are refused with a message naming `what`.
    """
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.to(float_dtype) if x.is_floating_point() and x.dtype != float_dtype else x
    array = np.asarray(x)
    if array.dtype.kind in ("U", "S", "O"):
        raise ValueError(
            f"{what} contains strings or Python objects ({array.dtype}); keraslike trains on "
            "numbers only. Encode string labels as integers first (e.g. with a StringLookup "
            "table or `np.unique(labels, return_inverse=True)`)."
        )
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.is_floating_point() and tensor.dtype != float_dtype:
        tensor = tensor.to(float_dtype)
    return tensor


def is_array_like(x):
    """Whether `x` is in-memory data (array, tensor, or a list/tuple/dict of them)."""
    leaves = nest.flatten(x)
    return bool(leaves) and all(
        leaf is None or isinstance(leaf, (np.ndarray, torch.Tensor, list, float, int)) for leaf in leaves
    )


class ArrayData:
    """In-memory `(x, y, sample_weight)` held as device tensors and batched by index.

    Args:
        x, y, sample_weight: Structures of tensors (already converted), first dim = samples.
        batch_size: Samples per batch.
        shuffle: `True` (a new permutation each epoch), `"batch"` (shuffle batch order) or `False`.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        leaves = [t for t in nest.flatten((x, y, sample_weight)) if t is not None]
        self.num_samples = int(leaves[0].shape[0]) if leaves else 0
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.num_batches = math.ceil(self.num_samples / self.batch_size) if self.num_samples else 0

    def to(self, device):
        """Moves all data to `device` once."""
        move = lambda t: t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) else t  # noqa: E731
        self.x, self.y, self.sample_weight = nest.map_structure(move, (self.x, self.y, self.sample_weight))
        return self

    def split(self, validation_split):
        """Splits off the last `validation_split` fraction (before shuffling, as Keras does)."""
        n_train = int(math.floor(self.num_samples * (1.0 - validation_split)))
        if n_train == 0 or n_train == self.num_samples:
            raise ValueError(
                f"validation_split={validation_split} leaves no data on one side of the split "
                f"of {self.num_samples} samples."
            )
        head = lambda t: t[:n_train] if isinstance(t, torch.Tensor) else t  # noqa: E731
        tail = lambda t: t[n_train:] if isinstance(t, torch.Tensor) else t  # noqa: E731
        train = ArrayData(*nest.map_structure(head, (self.x, self.y, self.sample_weight)), self.batch_size, self.shuffle)
        val = ArrayData(*nest.map_structure(tail, (self.x, self.y, self.sample_weight)), self.batch_size, False)
        return train, val

    def batches(self):
        """Yields `(x, y, sample_weight)` batches for one epoch."""
        n, size = self.num_samples, self.batch_size
        device = next((t.device for t in nest.flatten(self.x) if isinstance(t, torch.Tensor)), None)
        if self.shuffle is True or self.shuffle == "true":
            order = torch.randperm(n, device=device)
            if _flat_lists(self.x, self.y, self.sample_weight):
                # The trainer's own layout (lists of tensors): gather without structure walks.
                xs, ys, sws = self.x, self.y, self.sample_weight
                for start in range(0, n, size):
                    idx = order[start : start + size]
                    yield (
                        [t.index_select(0, idx) for t in xs],
                        [None if t is None else t.index_select(0, idx) for t in ys],
                        [None if t is None else t.index_select(0, idx) for t in sws],
                    )
                return
            take = lambda t, idx: t.index_select(0, idx) if isinstance(t, torch.Tensor) else t  # noqa: E731
            for start in range(0, n, size):
                idx = order[start : start + size]
                yield nest.map_structure(lambda t: take(t, idx), (self.x, self.y, self.sample_weight))
            return
        starts = list(range(0, n, size))
        if self.shuffle == "batch":
            starts = [starts[i] for i in torch.randperm(len(starts)).tolist()]
        for start in starts:
            cut = lambda t: t[start : start + size] if isinstance(t, torch.Tensor) else t  # noqa: E731
            yield nest.map_structure(cut, (self.x, self.y, self.sample_weight))


def _flat_lists(x, y, sample_weight):
    return (
        isinstance(x, list)
        and isinstance(y, list)
        and isinstance(sample_weight, list)
        and all(isinstance(t, torch.Tensor) for t in x)
        and all(t is None or isinstance(t, torch.Tensor) for t in y + sample_weight)
    )


def unpack_batch(batch):
    """Splits one batch from an iterable into `(x, y, sample_weight)` as Keras does."""
    if isinstance(batch, (list, tuple)):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        raise ValueError(
            "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
            f"found a tuple of {len(batch)} elements."
        )
    return batch, None, None


class IterableData:
    """Batches from a DataLoader, Dataset, generator or `PyDataset`, moved to the device.

    Args:
        source: The iterable (or a `PyDataset`, indexed batch by batch).
        steps: Batches per epoch, or `None` to run until the source is exhausted.
        batch_size: For a map-style `torch.utils.data.Dataset` of samples, the DataLoader's batch size.
        shuffle: For a map-style Dataset, whether its DataLoader shuffles.
    """

    def __init__(self, source, steps=None, batch_size=32, shuffle=False):
        from keraslike.utils.py_dataset import PyDataset

        self.py_dataset = source if isinstance(source, PyDataset) else None
        if isinstance(source, torch.utils.data.Dataset) and not isinstance(
            source, torch.utils.data.IterableDataset
        ) and self.py_dataset is None:
            source = torch.utils.data.DataLoader(source, batch_size=batch_size, shuffle=bool(shuffle))
        self.source = source
        self.steps = steps
        self._iterator = None
        self.is_generator = not hasattr(source, "__len__") and iter(source) is source
        if steps is not None:
            self.num_batches = steps
        elif self.py_dataset is not None:
            self.num_batches = self.py_dataset.num_batches
        elif hasattr(source, "__len__"):
            self.num_batches = len(source)
        else:
            self.num_batches = None
        self.device = None
        self.structure_targets = None  # set by the trainer: y, sw -> per-output lists

    def to(self, device):
        self.device = device
        return self

    def _raw_batches(self):
        if self.py_dataset is not None:
            for i in range(self.py_dataset.num_batches or 0):
                yield self.py_dataset[i]
            return
        if self.is_generator:
            # A generator is consumed across epochs (Keras's steps_per_epoch semantics).
            # Plain `for` (not `yield from`): stopping an epoch must not close the user's generator.
            if self._iterator is None:
                self._iterator = iter(self.source)
            for item in self._iterator:
                yield item
            return
        yield from iter(self.source)

    def batches(self):
        count = 0
        raw = self._raw_batches()
        while self.steps is None or count < self.steps:
            try:
                batch = next(raw)
            except StopIteration:
                break
            x, y, sw = unpack_batch(batch)
            convert = lambda t: to_tensor(t, "data").to(self.device, non_blocking=True)  # noqa: E731
            x, y, sw = nest.map_structure(lambda t: None if t is None else convert(t), (x, y, sw))
            if self.structure_targets is not None:
                y, sw = self.structure_targets(y, sw)
            yield x, y, sw
            count += 1
        if self.py_dataset is not None:
            self.py_dataset.on_epoch_end()
