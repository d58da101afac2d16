"""Where dataset files live, how they are fetched, and how their bytes are checked."""

import gzip
import os
import zipfile

import numpy as np

from keraslike.utils import file_utils

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def datasets_dir():
    """Returns the folder dataset files are read from (and downloaded to).

    In order: `$KERASLIKE_DATASETS_DIR` if set; else `$KERAS_HOME/datasets` if
    `KERAS_HOME` is set; else `~/.keras/datasets` (Keras's own cache, so files Keras
    already downloaded are reused). The environment is read at each call.
    """
    override = os.environ.get("KERASLIKE_DATASETS_DIR")
    if override:
        return os.path.abspath(os.path.expanduser(override))
    return os.path.join(file_utils.keras_home(), "datasets")


def local_path(path, subdir=""):
    """The absolute path of a dataset file: `path` if absolute, else under `datasets_dir()`."""
    path = os.path.expanduser(os.fspath(path))
    if os.path.isabs(path):
        return path
    return os.path.abspath(os.path.join(datasets_dir(), subdir, path))


def fetch(path, origin, file_hash, download=True, subdir=""):
    """Returns the local path of a dataset file, downloading it if missing and allowed.

    Args:
        path: File name (relative to `datasets_dir()/subdir`) or absolute path.
        origin: URL to download it from, or `None` when there is none.
        file_hash: Known sha256 or md5 of the file, checked on every load; `None` skips.
        download: `True` to download a missing file, `False` to raise
            `FileNotFoundError` instead, or a function `(url, destination)` that
            fetches it (a mirror, or a test double).
        subdir: Sub-folder of `datasets_dir()` for relative paths.
    """
    target = local_path(path, subdir)
    return file_utils.get_file(
        os.path.basename(target),
        origin,
        file_hash=file_hash,
        cache_subdir=os.path.dirname(target),
        download=bool(download),
        downloader=download if callable(download) else None,
    )


def read_gzip(path):
    """Returns the decompressed bytes of a `.gz` file; a damaged file is a `ValueError`."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:  # BadGzipFile is an OSError; truncation an EOFError
        raise ValueError(
            f"{path} is not a complete gzip file ({e}). Delete it and load again to "
            "re-download it."
        ) from e


def load_npz(path, keys):
    """Reads arrays `keys` from an `.npz` file, never unpickling anything.

    Returns:
        A dict `{key: array}`.
    """
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ValueError(
            f"{path} is not a complete .npz file ({e}). Delete it and load again to "
            "re-download it."
        ) from e
    with archive:
        missing = [k for k in keys if k not in archive.files]
        if missing:
            raise ValueError(
                f"{path} has no array named {missing[0]!r}: it holds {sorted(archive.files)}, "
                f"expected {list(keys)}."
            )
        try:
            return {k: archive[k] for k in keys}
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise ValueError(
                f"{path} is not a complete .npz file ({e}). Delete it and load again to "
                "re-download it."
            ) from e


def check_size(name, actual, expected, what="bytes"):
    """Raises the "truncated file" `ValueError` when `actual != expected`."""
    if actual != expected:
        state = "truncated" if actual < expected else "longer than expected"
        raise ValueError(
            f"{name} is {state}: expected {expected} {what}, found {actual}. "
            "Delete the file and load again to re-download it."
        )
