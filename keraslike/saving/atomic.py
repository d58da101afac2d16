"""Atomic file writes: write a temp file beside the target, then `os.replace` it into place.

A save that crashes or is killed half-way leaves the previous file untouched (and at worst a
stray `.<name>.tmp-*` file beside it); readers never see a half-written model. The temp file is
fsync'ed before the rename (and the folder after it), so a power loss cannot swap the old file
for an empty new one either.
"""

import contextlib
import os
import tempfile


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, where directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, overwrite=True):
    """Yields a binary file object; on success its content replaces `path` atomically.

    Args:
        path: The target file.
        overwrite: When `False`, an existing `path` is a `FileExistsError`.

    Yields:
        An open binary file in the target's folder. When the body raises, the temp file is
        removed and `path` is left as it was.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and `overwrite=False`.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to {path!r}: the folder {folder!r} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.tmp_path = tmp
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


@contextlib.contextmanager
def atomic_path(path, overwrite=True):
    """Yields a temp path beside `path` for writers that need a file name (h5py); see `atomic_write`."""
    with atomic_write(path, overwrite=overwrite) as f:
        yield f.tmp_path
