"""Small pieces shared by the export formats: output names and atomic writes."""

import os
import tempfile


def output_names(model):
    """One unique name per flat output: the dict keys or the producing layers' names."""
    names, seen = [], {}
    for name in model.output_names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}_{count}")
    return names


def write_atomically(filepath, write):
    """Runs `write(temporary_path)` and renames the result to `filepath`; no partial file."""
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".export-", suffix=os.path.splitext(filepath)[1], dir=directory)
    os.close(handle)
    try:
        write(temporary)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
