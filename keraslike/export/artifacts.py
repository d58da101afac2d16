"""Small pieces shared by the export formats: output names and atomic writes."""

import os

from keraslike.saving.atomic import atomic_path


def output_names(model):
    """One unique name per flat output: the dict keys or the producing layers' names."""
    names, seen = [], {}
    for name in model.output_names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}_{count}")
    return names


def write_atomically(filepath, write):
    """Runs `write(temporary_path)` and renames the result to `filepath`; no partial file.

    The folder is created if needed; the temp file, fsync and rename are `saving.atomic`'s.
    """
    os.makedirs(os.path.dirname(os.path.abspath(filepath)), exist_ok=True)
    with atomic_path(filepath) as temporary:
        write(temporary)
