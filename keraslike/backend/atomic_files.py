"""Atomic file writes: write a temp file beside the target, then `os.replace` it into place.

A save that crashes or is killed half-way leaves the previous file untouched; readers never see a
half-written model. A save that fails removes its temp file; one killed outright leaves
`.<name>.tmp-<pid>-*` beside the target, which the next save to that path removes once process
<pid> is gone. The temp file is
fsync'ed before the rename (and the folder after it), so a power loss cannot swap the old file
for an empty new one either.
"""

import contextlib
import os
import shutil
import tempfile


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process (or no way to tell): leave its files alone
    return True


def remove_stale(folder, prefix):
    """Removes `<prefix><pid>-*` files and folders in `folder` left by processes that are gone."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)


def temp_prefix(name):
    """The prefix of this process's temp files for target `name` (`.<name>.tmp-<pid>-`)."""
    return f".{name}.tmp-{os.getpid()}-"


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
    name = os.path.basename(path)
    remove_stale(folder, f".{name}.tmp-")
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(name), dir=folder)
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
