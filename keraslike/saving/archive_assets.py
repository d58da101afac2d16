"""The `assets/` folder of a `.keras` archive: files layers write with `save_assets(dir)`.

As Keras: each layer that has `save_assets` gets a folder named by its path in the weights file
(`layers/text_vectorization`; the model's own is `assets/` itself) and writes what it wants
there; on loading, when the archive has more than its 3 usual members, each layer that has
`load_assets` is given its folder (or `None` when the archive holds none for it). Member names
are checked by `keras_archive` before anything is written to disk, into a private temporary
folder that is removed afterwards.
"""

import os
import shutil
import tempfile

from keraslike.saving import keras_h5
from keraslike.saving.errors import SavedFileError

ASSETS = "assets"
_BASE_MEMBERS = 3  # config.json, metadata.json, model.weights.h5


def _folder(root, path):
    return os.path.join(root, *path.split("/")) if path else root


def collect(model):
    """`(archive member name, bytes)` for every file the model's layers' `save_assets` write."""
    writers = [(p, layer) for p, layer in keras_h5.walk_layers(model)
               if callable(getattr(layer, "save_assets", None))]
    if not writers:
        return []
    members = []
    with tempfile.TemporaryDirectory(prefix="keraslike-assets-") as root:
        for path, layer in writers:
            folder = _folder(root, path)
            os.makedirs(folder, exist_ok=True)
            layer.save_assets(folder)
        for dirpath, _, files in sorted(os.walk(root)):
            for filename in sorted(files):
                full = os.path.join(dirpath, filename)
                name = f"{ASSETS}/" + os.path.relpath(full, root).replace(os.sep, "/")
                if not name.isascii():
                    raise ValueError(
                        f"`save_assets` wrote {name!r}: .keras archive member names must be ASCII."
                    )
                with open(full, "rb") as f:
                    members.append((name, f.read()))
    return members


def restore(zf, model, filepath, failures):
    """Calls `load_assets(folder)` on the model's layers that have it, from the open archive;
    a layer's `load_assets` that raises is added to `failures` (a `LoadFailures`), as Keras
    collects them, and the other layers still load theirs."""
    readers = [(p, layer) for p, layer in keras_h5.walk_layers(model)
               if callable(getattr(layer, "load_assets", None))]
    if not readers or len(zf.namelist()) <= _BASE_MEMBERS:
        return
    with tempfile.TemporaryDirectory(prefix="keraslike-assets-") as root:
        for info in zf.infolist():
            name = info.filename
            if not name.startswith(f"{ASSETS}/") or name.endswith("/"):
                continue
            target = os.path.join(root, *name.split("/"))  # names checked: none escapes `root`
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (OSError, EOFError) as e:
                raise SavedFileError(filepath, f"cannot read {name!r} from the archive ({e}).") from None
        base = os.path.join(root, ASSETS)
        for path, layer in readers:
            folder = _folder(base, path)
            try:
                layer.load_assets(folder if os.path.isdir(folder) else (base if not path else None))
            except Exception as error:  # the layer's code, whatever it raises (as Keras)
                failures.add(layer, "load_assets", error)
