"""Turn what users pass to `fit/evaluate/predict` into batches of device tensors.

In-memory data (numpy arrays, torch tensors, lists/dicts of them) is converted once and moved to
the training device once; each epoch then slices it by index on the device (no per-sample
collation, no DataLoader workers). Datasets, DataLoaders, generators and `PyDataset`s are
iterated as they are, each batch moved to the device.
"""

import itertools
import math
import random as python_random
import warnings

import numpy as np
import torch

from keraslike.graph import nest
from keraslike.random import rng_state
from keraslike.utils.py_dataset import PyDataset


def _describe(x):
    shape = getattr(x, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else type(x).__name__


def to_tensor(x, what, float_dtype=torch.float32):
    """Converts one array-like leaf to a torch tensor (zero-copy where possible).

    Floats become `float_dtype` (Keras converts float64 data to floatx; `None` keeps their
    dtype); integers and booleans keep their dtype. Strings are refused with a message naming
    `what`.
    """
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.to(float_dtype) if float_dtype is not None and x.is_floating_point() and x.dtype != float_dtype else x
    array = np.asarray(x)
    if array.dtype.kind in ("U", "S", "O"):
        raise ValueError(
            f"{what} contains strings or Python objects ({array.dtype}); keraslike trains on "
            "numbers only. Encode string labels as integers first (e.g. with a StringLookup "
            "table or `np.unique(labels, return_inverse=True)`)."
        )
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if float_dtype is not None and tensor.is_floating_point() and tensor.dtype != float_dtype:
        tensor = tensor.to(float_dtype)
    return tensor


def is_array_like(x):
    """Whether `x` is in-memory data (array, tensor, or a list/tuple/dict of them)."""
    leaves = nest.flatten(x)
    return bool(leaves) and all(
        leaf is None or isinstance(leaf, (np.ndarray, torch.Tensor, list, float, int)) for leaf in leaves
    )


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights from `class_weight` (Keras's rule: labels from the argmax of one-hot
    targets, else the rounded value; a class missing from the dict weighs 1). On the device, no
    host read."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    if y.ndim > 1:
        y = y.argmax(-1) if y.shape[-1] != 1 else y.squeeze(-1)
    labels = torch.round(y.float()).long() if y.is_floating_point() else y.long()
    size = max(int(k) for k in class_weight) + 1
    table = torch.ones(size, device=y.device)
    for cls, weight in class_weight.items():
        table[int(cls)] = float(weight)
    inside = (labels >= 0) & (labels < size)
    return torch.where(inside, table[labels.clamp(0, size - 1)], torch.ones((), device=y.device))


def _pack_batch(x, y, sample_weight):
    """Keras's `pack_x_y_sample_weight`: `x` alone (or `(x,)` when `x` is a list or tuple),
    `(x, y)`, or `(x, y, sample_weight)`."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


# The loops whose in-memory data Keras's torch backend reads through a DataLoader (not
# `train_on_batch` & co., which take the arrays as one batch).
LOADER_LOOPS = ("fit", "evaluate", "predict", "validation_data")


def keras_loader_draws(iterators=1):
    """Draws what Keras's torch DataLoader over in-memory data draws from torch's global (CPU)
    generator when its epoch iterator makes a DataLoader iterator (at a pass's start and, for
    the next one, at its end): the iterator's base seed (one int64), for each of `iterators`
    (1 or 2). Kept so that the global stream, and with it each shuffled pass's order, stays
    where Keras's is."""
    _DRAWN_SEEDS[iterators].random_()  # n int64s in one call leave the stream where n calls do


# Where `keras_loader_draws` puts what it draws (the values are not used): tensors made once,
# so a `predict` at batch 1 pays neither an allocation nor a second call for its two draws.
_DRAWN_SEEDS = {n: torch.empty(n, dtype=torch.int64, device="cpu") for n in (1, 2)}


def _keras_loader_permutation(n, reused=False):
    """A shuffled pass's sample order, drawn as Keras's torch DataLoader draws it (its base
    seed unless the iterator was made at the end of the previous pass (`reused`), then its
    `RandomSampler`'s seed from the global generator and `randperm` from a generator seeded
    with it): under `set_random_seed` the same order as Keras's `fit`."""
    if not reused:
        keras_loader_draws()
    seed = int(torch.empty((), dtype=torch.int64, device="cpu").random_().item())
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


class _Pass:
    """One pass over in-memory data: the batch order drawn at its start and how far it got.

    `rng` is the process's random state just before the order was drawn (recorded only when a
    checkpoint may need it), so a restored run draws the same order again.
    """

    def __init__(self, index, rng):
        self.index = index  # batch number -> (local index or slice, global batch size)
        self.cursor = 0
        self.rng = rng


class ArrayData:
    """In-memory `(x, y, sample_weight)` held as device tensors and batched by index.

    Batches are Keras's step data: `x`, `(x, y)` or `(x, y, sample_weight)`, each part in
    the structure the user gave (a tensor, a list, or a dict).

    With `steps`, an epoch is `steps` batches and the next epoch continues the same pass over
    the data (same shuffled order) where the last one stopped; an epoch that reaches the end of
    the pass stops there (shorter), and the next starts a new pass, as Keras 3 does.

    Args:
        x, y, sample_weight: Structures of tensors (already converted), first dim = samples.
        batch_size: Samples per batch; `None`: `ceil(samples / steps)` with `steps`, else 32.
        shuffle: `True` (a new permutation each epoch), `"batch"` (shuffle batch order) or `False`.
        steps: Batches per epoch, or `None` for one full pass per epoch.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        leaves = [t for t in nest.flatten((x, y, sample_weight)) if t is not None]
        self.num_samples = int(leaves[0].shape[0]) if leaves else 0
        if batch_size is None:
            batch_size = max(math.ceil(self.num_samples / steps), 1) if steps else 32
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.steps = steps
        self.class_weight = None
        self.shard = None  # (rank, world, permute) under data parallelism, else None
        self.epoch = 0
        self.share = (1, 1)  # (samples of this rank, samples of the global batch) of the last batch
        self.record_positions = False  # set by a checkpoint callback: keep each pass's rng state
        self.continue_passes = True  # False: every `batches()` starts a new pass (validation)
        self._pass = None
        self._resume = None

    @property
    def pass_length(self):
        """Batches in one full pass over the data."""
        return math.ceil(self.num_samples / self.batch_size) if self.num_samples else 0

    @property
    def num_batches(self):
        """Batches per epoch (`steps` when given), as the progress bar shows them."""
        return self.steps if self.steps is not None else self.pass_length

    def set_shard(self, rank, world, permute):
        """Makes `batches()` yield this rank's part of each global batch: the global batches
        (and, when shuffling, each epoch's permutation `permute(n, device)`, which must return
        the same order on every rank) are the same on every rank, and each rank takes its
        contiguous slice of each (`torch.tensor_split`)."""
        self.shard = (rank, world, permute)

    def set_epoch(self, epoch):
        """The epoch whose permutation `batches()` draws under data parallelism."""
        self.epoch = epoch

    def batch_sizes(self):
        """`[(local, global)]` sample counts of the batches of one pass (in order)."""
        sizes = []
        for start in range(0, self.num_samples, self.batch_size):
            global_n = min(self.batch_size, self.num_samples - start)
            if self.shard is None:
                sizes.append((global_n, global_n))
            else:
                rank, world, _ = self.shard
                sizes.append((len(range(global_n)[_split_slice(global_n, world, rank)]), global_n))
        return sizes

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
        train = ArrayData(*nest.map_structure(head, (self.x, self.y, self.sample_weight)), self.batch_size,
                          self.shuffle, self.steps)
        val = ArrayData(*nest.map_structure(tail, (self.x, self.y, self.sample_weight)), self.batch_size, False)
        train.class_weight = self.class_weight
        return train, val

    def _loader_like(self):
        # Whether Keras reads this data through a DataLoader here. Under data parallelism every
        # rank draws as one process does; rank 0's order is the one used (`set_shard`).
        return getattr(self, "what", "fit") in LOADER_LOOPS

    def _reuse_loader_iterator(self):
        # Keras's epoch iterator keeps the DataLoader iterator it made at the end of a pass
        # for the next epoch only when `steps_per_epoch` is set; otherwise each epoch makes a
        # new one (drawing another base seed).
        made, self._made_next_iterator = getattr(self, "_made_next_iterator", False), False
        return made and self.steps is not None and self.continue_passes

    def draw_build_pass(self, before_build):
        """Draws what Keras's DataLoader draws for the pass whose first batch Keras reads to
        build the model, loss and metrics (see `IterableData.draw_build_pass`), on every rank under
        data parallelism (rank 0's orders are the ones used). Drawn after a deferred build
        (`before_build=False`), so that nothing a build draws from torch's global generator
        (a custom initializer may) moves the weights away from those of a model built
        beforehand."""
        if before_build or not self._loader_like():
            return
        if self.shuffle is True or self.shuffle == "true":
            _keras_loader_permutation(1)
        else:
            keras_loader_draws()

    def begin_loop(self):
        """Nothing to tell in-memory arrays before a loop (see `IterableData.begin_loop`)."""

    def peek(self):
        """The first batch (in order, unshuffled) without advancing anything; `None` if empty."""
        if not self.num_samples:
            return None
        cut = slice(0, self.batch_size)
        x, y, sw = self._parts()
        return _pack_batch(*(_take_structure(part, cut) for part in (x, y, sw)))

    def _parts(self):
        sample_weight = self.sample_weight
        if self.class_weight and self.y is not None:
            sample_weight = class_weights_to_sample_weights(self.y, self.class_weight)
        return self.x, self.y, sample_weight

    # ------------------------------------------------------------ position (checkpoints)

    def position(self):
        """Where the data stands: `None` between passes, else `(cursor, rng)`: the batches of
        the current pass already yielded and the random state its order was drawn from (`None`
        when not recorded)."""
        if self._pass is None:
            return None
        return self._pass.cursor, self._pass.rng

    def end_draw_pending(self):
        """Whether a pass's last batch was yielded and the draw Keras makes after that step (its
        next DataLoader iterator) has not been made yet: a checkpoint written in between
        (`BackupAndRestore` at that batch's end) must make it when resumed."""
        return getattr(self, "_end_draw_pending", False)

    def _end_of_pass_draw(self):
        self._end_draw_pending = False
        keras_loader_draws()
        self._made_next_iterator = True

    def resume(self, cursor, rng, now_rng, epoch_step=0, end_draw_pending=False):
        """Makes the next `batches()` continue a pass like the one `position()` described.

        The pass's order is drawn again from `rng` (when given), its first `cursor` batches are
        skipped, then the random state is set to `now_rng` (and the end-of-pass draw made when
        `end_draw_pending`); the epoch counts `epoch_step` batches as done (a resume in the
        middle of an epoch).
        """
        self._resume = (cursor, rng, now_rng, epoch_step, end_draw_pending)

    # ------------------------------------------------------------ batching

    def _new_pass(self, device):
        n, size = self.num_samples, self.batch_size
        rng = rng_state.get_state() if self.record_positions else None
        if self.shard is not None:
            rank, world, permute = self.shard
            if self.shuffle is True or self.shuffle == "true":
                reused = self._reuse_loader_iterator() or not self._loader_like()
                order = permute(n, device, lambda: _keras_loader_permutation(n, reused))
            elif self.shuffle == "batch":
                order = permute(n, device)
            else:
                if not self._reuse_loader_iterator() and self._loader_like():
                    keras_loader_draws()
                order = torch.arange(n, device=device)

            def index(i):
                global_n = min(size, n - i * size)
                part = _split_slice(global_n, world, rank)
                return order[i * size + part.start : i * size + part.stop], global_n

        elif self.shuffle is True or self.shuffle == "true":
            order = _keras_loader_permutation(n, self._reuse_loader_iterator() or not self._loader_like()).to(device)

            def index(i):
                idx = order[i * size : (i + 1) * size]
                return idx, idx.shape[0]

        else:
            if not self._reuse_loader_iterator() and self._loader_like():
                keras_loader_draws()
            starts = list(range(0, n, size))
            if self.shuffle == "batch":
                starts = [starts[i] for i in torch.randperm(len(starts)).tolist()]

            def index(i):
                start = starts[i]
                return slice(start, start + size), min(size, n - start)

        return _Pass(index, rng)

    def batches(self):
        """Yields Keras step data (`x`, `(x, y)` or `(x, y, sample_weight)`) for one epoch."""
        x, y, sw = self._parts()
        device = next((t.device for t in nest.flatten(x) if isinstance(t, torch.Tensor)), None)
        if type(x) is torch.Tensor and (y is None or type(y) is torch.Tensor) and (
            sw is None or type(sw) is torch.Tensor
        ):
            take = _take_tensor  # the common case: one tensor each, no structure walks
        else:
            take = _take_structure
        done = 0
        limit = self.num_batches
        if self._resume is not None:
            cursor, rng, now_rng, done, end_draw_pending = self._resume
            self._resume = None
            self._pass = None
            if cursor is not None:
                if rng is not None:
                    rng_state.set_state(rng)
                self._pass = self._new_pass(device)
                self._pass.cursor = cursor
            elif done:
                limit = done  # saved as a pass ended inside this epoch: the epoch ended there
            rng_state.set_state(now_rng)
            if end_draw_pending:
                self._end_of_pass_draw()  # the run was saved between a pass's last step and it
        elif self.steps is None or not self.continue_passes:
            self._pass = None
        length = self.pass_length
        while done < limit:
            if self._pass is None:
                self._pass = self._new_pass(device)  # drawn lazily: nothing is drawn for no batch
            current = self._pass
            i = current.cursor
            current.cursor += 1
            done += 1
            ends_pass = current.cursor >= length
            if ends_pass:
                self._pass = None  # the next epoch starts a new pass
                self._end_draw_pending = self._loader_like()
            idx, global_n = current.index(i)
            local_n = len(range(*idx.indices(self.num_samples))) if isinstance(idx, slice) else idx.shape[0]
            self.share = (local_n, global_n)
            yield _pack_batch(take(x, idx), take(y, idx), take(sw, idx))
            if ends_pass:
                # Keras makes its next pass's DataLoader iterator once the pass's last step has
                # run (after that step's dropout draws), unless the loop stopped there.
                if self.end_draw_pending():
                    self._end_of_pass_draw()
                break  # an epoch never runs into the next pass (Keras stops it short)
        if done < limit:
            _ran_out_warning()


def _split_slice(n, world, rank):
    """The slice of `range(n)` that `torch.tensor_split(..., world)[rank]` takes."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def _take_tensor(t, index):
    if t is None:
        return None
    if isinstance(index, slice):
        return t[index]
    return t.index_select(0, index)


def _take_structure(structure, index):
    if structure is None:
        return None
    return nest.map_structure(lambda t: _take_tensor(t, index) if isinstance(t, torch.Tensor) else t, structure)


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
        shuffle: For a map-style Dataset, whether its DataLoader shuffles; for a finite
            `PyDataset`, whether each pass visits its batches in a new random order.
    """

    def __init__(self, source, steps=None, batch_size=32, shuffle=False):
        self.py_dataset = source if isinstance(source, PyDataset) else None
        if isinstance(source, torch.utils.data.Dataset) and not isinstance(
            source, torch.utils.data.IterableDataset
        ) and self.py_dataset is None:
            source = torch.utils.data.DataLoader(source, batch_size=batch_size, shuffle=bool(shuffle))
        self.source = source
        self.steps = steps
        self.shuffle = shuffle
        self._iterator = None
        self._peeked = None  # [batch] read from a generator by `peek()`, not yet yielded
        self._build_item = None  # [batch] of a `PyDataset` read by `draw_build_pass`
        self.is_generator = not hasattr(source, "__len__") and iter(source) is source
        if steps is not None:
            self.num_batches = steps
        elif self.py_dataset is not None:
            self.num_batches = self.py_dataset.num_batches
        elif hasattr(source, "__len__"):
            self.num_batches = len(source)
        else:
            self.num_batches = None
        if self.py_dataset is not None:
            self.pass_length = self.py_dataset.num_batches
        else:
            self.pass_length = len(source) if hasattr(source, "__len__") else None
        self.what = "fit"  # the method the data was given to, for messages
        self.record_positions = False  # set by a checkpoint callback: keep each pass's rng state
        self.continue_passes = True  # False: every `batches()` starts a new pass (validation)
        self._cursor = 0  # batches taken from `_iterator` (the pass in progress)
        self._pass_rng = None
        self._resume = None
        self._yielded = False
        self.ran_out = False  # the last `batches()` ended early: the source had no more data
        self.device = None
        self.adapt_inputs = None  # set by the trainer: x -> x adapted to the model's inputs
        # Set by the trainer when the model overrides the step this data feeds: batches are then
        # given as Keras's torch backend gives them (`as_keras_gives`), not adapted.
        self.raw_batches = False
        self.class_weight = None
        self.shard = None  # (rank, world) under data parallelism
        self.share_order = None  # under data parallelism: rank 0's shuffled PyDataset order
        self.share = (1, 1)

    def set_shard(self, rank, world, share_order=None):
        """Under data parallelism: a DataLoader with a `DistributedSampler` already gives each
        rank its samples (its `set_epoch` is called each epoch); any other source is split by
        batch (rank `r` takes batches `r, r + world, ...`), each rank running the same number of
        steps (a final incomplete round is dropped). `share_order(indices)` returns rank 0's
        batch order of a shuffled `PyDataset` pass on every rank."""
        sampler = getattr(self.source, "sampler", None)
        self.shard = (rank, world)
        self.share_order = share_order
        self.share = (1, world)
        if isinstance(sampler, torch.utils.data.DistributedSampler):
            self.distributed_sampler = sampler
            return
        self.distributed_sampler = None
        if self.num_batches is not None:
            self.num_batches = self.num_batches // world
            if self.steps is not None:
                self.steps = self.num_batches
        if self.pass_length is not None:
            self.pass_length //= world

    def set_epoch(self, epoch):
        """Passes the epoch to a `DistributedSampler` (new shuffles each epoch)."""
        sampler = getattr(self, "distributed_sampler", None)
        if sampler is not None:
            sampler.set_epoch(epoch)

    def to(self, device):
        self.device = device
        return self

    def peek(self):
        """The first batch, adapted like `batches()`'s, or `None` if there is none. A generator's
        batch is kept and yielded first by `batches()`; other sources are read again there."""
        if self._build_item is not None:
            raw = self._build_item[0]
        elif self.py_dataset is not None:
            raw = self.py_dataset[0] if self.py_dataset.num_batches != 0 else None
        elif self.is_generator:
            if self._peeked is None:
                source = self._iterator if self._iterator is not None else iter(self.source)
                self._peeked = [next(source, None)]
            raw = self._peeked[0]
        else:
            raw = next(iter(self.source), None)
        if raw is None:
            return None
        x, y, sw = unpack_batch(raw)
        convert = lambda t: None if t is None else self.convert(t)  # noqa: E731
        x = self.adapt_inputs(x) if self.adapt_inputs is not None else nest.map_structure(convert, x)
        return _pack_batch(x, *nest.map_structure(convert, (y, sw)))

    def _start_pass(self, skip=0):
        """Starts a pass over the source (a generator continues where it is), skipping `skip`
        of this rank's batches."""
        self._pass_rng = rng_state.get_state() if self.record_positions else None
        if self.py_dataset is not None:
            keras_loader_draws()  # Keras reads a PyDataset through a new torch DataLoader iterator
            dataset, first = self.py_dataset, skip * (self.shard[1] if self._sharded() else 1)
            raw = (dataset[i] for i in self._py_dataset_order()[first:])
            skip = 0
        else:
            raw = iter(self.source)
            if self._peeked is not None:  # a generator's batch read by `peek()` comes first
                peeked, self._peeked = self._peeked[0], None
                raw = iter(()) if peeked is None else itertools.chain([peeked], raw)
        self._iterator = self._rank_batches(raw) if self._sharded() else raw
        self._cursor = 0
        for _ in range(skip):
            if next(self._iterator, _END) is _END:
                break
        self._cursor = skip

    def _py_dataset_order(self):
        """The batch indices of a `PyDataset` for one pass: in order, or (`fit(shuffle=True)` or
        `"batch"`) shuffled anew each pass by Python's `random`, as Keras's PyDataset adapter
        does, so a run seeded with `set_random_seed` visits the batches in Keras's order (under
        data parallelism rank 0's order, split by batch). A resumed pass draws the same order again: its random state,
        Python's included, is restored before this is called."""
        indices = list(range(self.py_dataset.num_batches or 0))
        if self.shuffle and self.shuffle != "false":
            python_random.shuffle(indices)
            if self._sharded() and getattr(self, "share_order", None) is not None:
                indices = self.share_order(indices)  # the same order on every rank
        return indices

    def draw_build_pass(self, before_build):
        """Starts (and drops) the pass of a `PyDataset` that Keras starts to read the first batch
        it builds the model, loss and metrics from, as Keras does: `on_epoch_begin()` is called,
        the DataLoader's base seed drawn from torch's generator (`keras_loader_draws`), the
        batch order drawn (a shuffling dataset's, so the epochs then visit the batches in
        Keras's orders under the same seed) and the pass's first batch read (once: `peek()`
        returns it), so a dataset's hooks and reads happen as often as under Keras."""
        if self.py_dataset is None:
            return
        if not before_build:
            self._build_item = None
            return
        self.py_dataset.on_epoch_begin()
        keras_loader_draws()  # the base seed of the DataLoader iterator Keras reads it through
        order = self._py_dataset_order()
        if order or self.py_dataset.num_batches is None:  # an endless dataset is read from 0
            self._build_item = [self.py_dataset[order[0] if order else 0]]

    def begin_loop(self):
        """What Keras's `fit` and `evaluate` do to their data before the first pass (their
        epoch iterator's `reset()`): a `PyDataset`'s `on_epoch_end()` is called."""
        if self.py_dataset is not None:
            self.py_dataset.on_epoch_end()

    def _sharded(self):
        return self.shard is not None and getattr(self, "distributed_sampler", None) is None

    def _rank_batches(self, raw):
        rank, world = self.shard
        round_ = []
        for batch in raw:
            round_.append(batch)
            if len(round_) == world:
                yield round_[rank]
                round_ = []

    def position(self):
        """Where the data stands: `None` between passes, else `(cursor, rng)`: the batches of
        the current pass already yielded and the random state at its start (`None` when not
        recorded)."""
        if self._iterator is None:
            return None
        return self._cursor, self._pass_rng

    def resume(self, cursor, rng, now_rng, epoch_step=0, end_draw_pending=False):
        """Makes the next `batches()` continue a pass like the one `position()` described: the
        source is iterated again from `rng` (when given), its first `cursor` batches skipped,
        then the random state set to `now_rng`. A source that gives other batches when iterated
        again (an unseeded augmentation, a generator not created afresh) resumes with those."""
        self._resume = (cursor, rng, now_rng, epoch_step)  # (no draw between its passes)

    def end_draw_pending(self):
        """`False`: the draw Keras makes after a `PyDataset` pass is made at the end of `batches()`
        (a run saved between a pass's last step and that draw resumes without it)."""
        return False

    def _next_raw(self):
        """The next raw batch of the pass, or `_END` (the pass is then over)."""
        if self.steps is not None and self.pass_length is not None and self._cursor >= self.pass_length:
            item = _END  # Keras stops at the known length without asking the source for more
        elif self._peeked is not None:  # read by `peek()` from the pass in progress
            item, self._peeked = self._peeked[0], None
            item = _END if item is None else item
        else:
            item = next(self._iterator, _END)
        if item is _END:
            self._iterator = None
        else:
            self._cursor += 1
        return item

    def convert(self, leaf, what="data", keep_dtype=False):
        """One leaf of a batch as a tensor on the training device (floats as float32 unless
        `keep_dtype`)."""
        tensor = to_tensor(leaf, what, float_dtype=None if keep_dtype else torch.float32)
        return tensor.to(self.device, non_blocking=True)

    def as_keras_gives(self, batch):
        """One raw batch as Keras's torch backend hands it to a user's `train_step` /
        `test_step` / `predict_step`: read through a torch DataLoader, whose conversion turns
        every tuple into a list (a bare array `x` is the batch `(x,)`, so `[x]`), leaves keep
        their dtype (float64 stays float64) and nothing is checked against the model's inputs
        (the step may not feed the data to the model as it is)."""
        convert = lambda t: None if t is None else self.convert(t, keep_dtype=True)  # noqa: E731
        if isinstance(batch, dict):
            return _as_lists(batch, convert)
        parts = list(batch) if isinstance(batch, (list, tuple)) else [batch]
        parts = [_as_lists(part, convert) for part in parts]
        if self.class_weight and len(parts) > 1 and parts[1] is not None:
            if len(parts) > 2 and parts[2] is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            parts = [parts[0], parts[1], class_weights_to_sample_weights(parts[1], self.class_weight)]
        return parts

    def batches(self):
        """Yields Keras step data (`x`, `(x, y)` or `(x, y, sample_weight)`), inputs adapted
        (with `raw_batches`, as `as_keras_gives` returns them).

        Without `steps` an epoch is one pass over the source (a generator is consumed across
        epochs); with `steps`, the next epoch continues the same pass where the last one stopped.
        """
        done = 0
        self.ran_out = False
        if self.py_dataset is not None:
            self.py_dataset.on_epoch_begin()  # every epoch, before its order is drawn (Keras)
        if self._resume is not None:
            cursor, rng, now_rng, done = self._resume
            self._resume = None
            if rng is not None:
                rng_state.set_state(rng)
            self._start_pass(skip=cursor)
            rng_state.set_state(now_rng)
        elif self._iterator is None or (
            (self.steps is None or not self.continue_passes) and not self.is_generator
        ):
            self._start_pass()
        while self.steps is None or done < self.steps:
            batch = self._next_raw()
            if batch is _END:
                break
            done += 1
            self._yielded = True
            if self.raw_batches:
                yield self.as_keras_gives(batch)
                continue
            x, y, sw = unpack_batch(batch)
            convert = lambda t: None if t is None else self.convert(t)  # noqa: E731
            x = self.adapt_inputs(x) if self.adapt_inputs is not None else nest.map_structure(convert, x)
            y, sw = nest.map_structure(convert, (y, sw))
            if self.class_weight and y is not None:
                if sw is not None:
                    raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
                sw = class_weights_to_sample_weights(y, self.class_weight)
            yield _pack_batch(x, y, sw)
        if self.steps is not None and done < self.steps or done == 0 and self._yielded:
            # Keras replays a generator's first two batches in each later pass (it read them to
            # learn the data's structure), so an exhausted one-shot generator trains on those
            # again; keraslike stops: warned, no silent extra epochs on repeated data.
            self.ran_out = True
            _ran_out_warning()
        if not self._yielded:
            kind = "generator" if self.is_generator else type(self.source).__name__
            raise ValueError(
                f"The data passed to `{self.what}` must yield at least one batch. Received an "
                f"empty {kind} (`x` yielded no batches)."
            )
        if self.py_dataset is not None:
            if self._iterator is None:
                # Keras's epoch iterator makes a new DataLoader iterator once a pass is over
                # (after its last step): one more base-seed draw, as for in-memory arrays.
                keras_loader_draws()
            self.py_dataset.on_epoch_end()


_END = object()


def _as_lists(structure, convert):
    """`structure` with every tuple and list a list and every leaf converted (a torch
    DataLoader's `default_convert`; dicts keep their keys)."""
    if isinstance(structure, (list, tuple)):
        return [_as_lists(item, convert) for item in structure]
    if isinstance(structure, dict):
        return {key: _as_lists(value, convert) for key, value in structure.items()}
    return convert(structure)


def _ran_out_warning():
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your dataset or "
        "generator can generate at least `steps_per_epoch * epochs` batches.",
        stacklevel=2,
    )
