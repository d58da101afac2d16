"""`timeseries_dataset_from_array`: sliding windows over an array, as a batched torch
`DataLoader` (Keras 3's arguments and windows; no TensorFlow)."""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class TimeseriesWindows(Dataset):
    """Map-style dataset of windows: item `i` is `data[start + p_i + k * sampling_rate]`,
    `k < sequence_length` (with `targets[start + p_i]` when targets are given)."""

    def __init__(self, data, targets, positions, sequence_length, sampling_rate, start_index):
        self.data = data
        self.targets = targets
        self.positions = positions
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.start_index = start_index

    def __len__(self):
        return len(self.positions)

    def __getitem__(self, i):
        first = self.start_index + int(self.positions[i])
        window = torch.as_tensor(np.asarray(self.data[first + self.offsets]))
        if self.targets is None:
            return window
        return window, torch.as_tensor(np.asarray(self.targets[first]))


def _check(name, ok, message):
    if not ok:
        raise ValueError(message)


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Creates a dataset of sliding windows over a timeseries array.

    Window `i` holds `data[s, s + r, ..., s + r * (sequence_length - 1)]` with
    `s = start_index + i * sequence_stride` and `r = sampling_rate`; its target (when
    `targets` is given) is `targets[s]`, as in Keras. The result is a
    `torch.utils.data.DataLoader` of `(windows, targets)` batches (or windows alone): `fit`,
    `evaluate` and `predict` take it, and `.dataset` is the map-style dataset of windows for
    your own loader (workers, samplers).

    Args:
        data: Array (numpy, list or tensor) of timesteps, axis 0 is time.
        targets: Targets aligned with `data` (`targets[i]` for the window starting at `i`),
            or `None`.
        sequence_length: Length of each window (number of timesteps).
        sequence_stride: Period between the starts of successive windows.
        sampling_rate: Period between the timesteps inside a window.
        batch_size: Windows per batch (default 128); `None` gives unbatched windows.
        shuffle: Whether to shuffle the windows. Keras shuffles the start positions once with
            `np.random.RandomState(seed)` (so does this), then also within a buffer per epoch
            through tf.data; here the order is additionally reshuffled each epoch by the
            DataLoader's seeded sampler.
        seed: Seed for the shuffling.
        start_index, end_index: Only windows within `data[start_index:end_index]`.

    Returns:
        A `torch.utils.data.DataLoader`.

    Example:

    >>> data = np.arange(10)
    >>> ds = keras.utils.timeseries_dataset_from_array(data, None, sequence_length=3, batch_size=4)
    >>> next(iter(ds))
    tensor([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    """
    n = len(data)
    if start_index:
        _check("start_index", start_index >= 0,
               f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        _check("start_index", start_index < n,
               "`start_index` must be lower than the length of the data. Received: "
               f"start_index={start_index}, for data of length {n}")
    if end_index:
        _check("end_index", not (start_index and end_index <= start_index),
               "`end_index` must be higher than `start_index`. Received: "
               f"start_index={start_index}, and end_index={end_index} ")
        _check("end_index", end_index < n,
               "`end_index` must be lower than the length of the data. Received: "
               f"end_index={end_index}, for data of length {n}")
        _check("end_index", end_index > 0,
               f"`end_index` must be higher than 0. Received: end_index={end_index}")
    _check("sampling_rate", sampling_rate > 0,
           f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    _check("sampling_rate", sampling_rate < n,
           "`sampling_rate` must be lower than the length of the data. Received: "
           f"sampling_rate={sampling_rate}, for data of length {n}")
    _check("sequence_stride", sequence_stride > 0,
           f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    _check("sequence_stride", sequence_stride < n,
           "`sequence_stride` must be lower than the length of the data. Received: "
           f"sequence_stride={sequence_stride}, for data of length {n}")
    start_index = start_index or 0
    end_index = end_index or n
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    if isinstance(data, torch.Tensor):
        data = data.numpy()
    data = np.asarray(data)[:end_index]
    if targets is not None:
        targets = np.asarray(targets.numpy() if isinstance(targets, torch.Tensor) else targets)
    windows = TimeseriesWindows(data, targets, positions, sequence_length, sampling_rate,
                                start_index)
    generator = None
    if shuffle:
        generator = torch.Generator()
        generator.manual_seed(int(seed))
    return DataLoader(
        windows,
        batch_size=batch_size,
        shuffle=bool(shuffle),
        generator=generator,
    )
