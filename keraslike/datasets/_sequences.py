"""Ragged integer sequences (IMDB, Reuters) stored without pickle; Keras's preprocessing of them.

Keras's `imdb.npz` / `reuters.npz` hold `dtype=object` arrays of Python lists, which
NumPy can only store as pickle streams. keraslike never unpickles a dataset file.
It reads instead a *pickle-free* `.npz` where each ragged array `x` is two plain
integer arrays:

- `x_values`: all sequences concatenated, one flat integer array;
- `x_offsets`: `int64`, length `num_sequences + 1`, starting at 0 and ending at
  `len(x_values)`; sequence `i` is `x_values[x_offsets[i]:x_offsets[i + 1]]`.

Other (rectangular) arrays, such as labels, are stored as they are.
`save_sequences_npz` writes this format, e.g. to convert Keras's file once.
"""

import os
import tempfile

import numpy as np

from keraslike.datasets import _files
from keraslike.utils import file_utils


def save_sequences_npz(path, **arrays):
    """Writes arrays to an `.npz` file in keraslike's pickle-free format.

    Ragged arrays (object arrays or lists of integer sequences) are stored as
    `<name>_values` (flat) and `<name>_offsets` (`int64`, `len + 1` boundaries);
    other arrays as they are. Nothing is pickled, so the file loads with
    `np.load(path, allow_pickle=False)`. The file is written atomically.

    Args:
        path: Path of the `.npz` file to write.
        **arrays: Named arrays, e.g. `x_train=..., y_train=...`.

    Example:

    Converting Keras's pickled `imdb.npz` once (this step unpickles, so only do it
    with a file you trust, such as Keras's, whose sha256 `load_data` reports):

    ```python
    import numpy as np
    import keraslike
    with np.load("~/.keras/datasets/imdb.npz", allow_pickle=True) as f:
        keraslike.datasets.save_sequences_npz(
            "~/.keras/datasets/imdb_flat.npz", **{k: f[k] for k in f.files}
        )
    ```
    """
    out = {}
    for name, value in arrays.items():
        if isinstance(value, (list, tuple)) or (
            isinstance(value, np.ndarray) and value.dtype == object
        ):
            sequences = [np.asarray(s).reshape(-1) for s in value]
            lengths = np.array([len(s) for s in sequences], dtype=np.int64)
            flat = np.concatenate(sequences) if sequences else np.zeros(0, np.int64)
            if flat.dtype == object or not np.issubdtype(flat.dtype, np.integer):
                flat = flat.astype(np.int64)
            if flat.size and np.abs(flat).max() < 2**31:
                flat = flat.astype(np.int32)
            out[f"{name}_values"] = flat
            out[f"{name}_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        else:
            out[name] = np.asarray(value)
    path = os.path.expanduser(os.fspath(path))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".npz-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **out)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def resolve(path, origin, sha256, download):
    """Returns the file to read: `<stem>_flat.npz` beside a relative `path` if it exists,
    else `path` (downloading Keras's file if it is missing, so the user can convert it)."""
    expanded = os.path.expanduser(os.fspath(path))
    target = _files.local_path(expanded)
    if not os.path.isabs(expanded):
        flat = _flat_name(target)
        if os.path.exists(flat):
            return flat
    if os.path.exists(target):
        return target
    if not download:
        raise FileNotFoundError(
            f"Neither {_flat_name(target)} (pickle-free format) nor {target} (Keras's "
            "format) exists and downloading is disabled. " + _format_help(target)
        )
    return _files.fetch(expanded, origin, sha256, download)


def load(path, ragged_keys, plain_keys, sha256):
    """Reads a pickle-free sequences file.

    Returns:
        `(ragged, plain)`: `{key: (values, offsets)}` and `{key: array}`.
    """
    names = [f"{k}_{part}" for k in ragged_keys for part in ("values", "offsets")]
    try:
        arrays = _files.load_npz(path, names + list(plain_keys))
    except ValueError as e:
        if _is_keras_pickled_file(path, ragged_keys):
            raise ValueError(_pickled_message(path, sha256)) from None
        raise e
    ragged = {}
    for key in ragged_keys:
        values, offsets = arrays[f"{key}_values"], arrays[f"{key}_offsets"]
        if (
            values.ndim != 1
            or not np.issubdtype(values.dtype, np.integer)
            or offsets.ndim != 1
            or len(offsets) == 0
            or offsets[0] != 0
            or offsets[-1] != len(values)
            or np.any(np.diff(offsets) < 0)
        ):
            raise ValueError(
                f"{path}: `{key}_offsets` must be a non-decreasing int array starting at 0 "
                f"and ending at len({key}_values) = {len(values)}, with integer values; "
                "the file is corrupted."
            )
        ragged[key] = (values.astype(np.int64), offsets.astype(np.int64))
    return ragged, {k: arrays[k] for k in plain_keys}


def reorder(values, offsets, order):
    """Returns `(flat, lengths)` of the sequences taken in the order `order`."""
    lengths = np.diff(offsets)[order]
    starts = offsets[:-1][order]
    new_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    gather = np.arange(lengths.sum(), dtype=np.int64) + np.repeat(starts - new_starts, lengths)
    return values[gather], lengths


def shift_and_start(flat, lengths, start_char, index_from):
    """Adds `index_from` to every word and puts `start_char` (if not `None`) in front of
    every sequence, as Keras does."""
    flat = flat + (index_from or 0)
    if start_char is None:
        return flat, lengths
    new_lengths = lengths + 1
    ends = np.cumsum(new_lengths)
    out = np.empty(ends[-1] if len(ends) else 0, dtype=np.int64)
    is_start = np.zeros(len(out), dtype=bool)
    is_start[ends - new_lengths] = True
    out[is_start] = start_char
    out[~is_start] = flat
    return out, new_lengths


def cut_vocabulary(flat, lengths, num_words, skip_top, oov_char):
    """Keras's vocabulary cut: words outside `[skip_top, num_words)` become `oov_char`,
    or are removed when `oov_char` is `None`. `num_words=None` (or 0) means the
    largest word, which Keras's rule then also cuts (kept for parity)."""
    if not num_words:
        num_words = flat.max() if flat.size else 0
    keep = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        return np.where(keep, flat, oov_char), lengths
    segment = np.repeat(np.arange(len(lengths)), lengths)
    new_lengths = np.bincount(segment[keep], minlength=len(lengths)).astype(np.int64)
    return flat[keep], new_lengths


def to_object_array(flat, lengths):
    """A 1-D object array of Python lists of Python ints (Keras's return type)."""
    words = flat.tolist()
    ends = np.cumsum(lengths).tolist()
    out = np.empty(len(lengths), dtype=object)
    start = 0
    for i, end in enumerate(ends):
        out[i] = words[start:end]
        start = end
    return out


def _flat_name(target):
    stem = target[: -len(".npz")] if target.endswith(".npz") else target
    return stem + "_flat.npz"


def _is_keras_pickled_file(path, ragged_keys):
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive, archive.open(f"{ragged_keys[0]}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                _, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                _, _, dtype = np.lib.format.read_array_header_2_0(member)
            return dtype.hasobject
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return False


def _pickled_message(path, sha256):
    genuine = file_utils.validate_file(path, sha256)
    origin = "it is Keras's published file (sha256 verified)" if genuine else (
        "its sha256 does NOT match Keras's published file"
    )
    return (
        f"{path} stores its sequences as pickled object arrays (Keras's format; {origin}). "
        "keraslike never unpickles dataset files. " + _format_help(path)
    )


def _format_help(path):
    flat = _flat_name(path)
    return (
        "Convert the file once to keraslike's pickle-free format, in a Python session "
        "where you trust it (this step unpickles):\n\n"
        "    import numpy as np, keraslike\n"
        f"    with np.load({path!r}, allow_pickle=True) as f:\n"
        f"        keraslike.datasets.save_sequences_npz({flat!r}, "
        "**{k: f[k] for k in f.files})\n\n"
        f"then load it with load_data(path={flat!r}); with the default relative path, "
        "load_data() finds the `<name>_flat.npz` file beside `<name>.npz` by itself."
    )
