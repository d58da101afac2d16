"""The file formats, each behind one interface; `saving_api` only picks the format and calls it.

A format answers five questions: can it read this file (`can_read`, from the file's first bytes),
and `save` / `load` (whole models), `save_weights` / `load_weights`. `saves_model(path)` and
`saves_weights(path)` say which paths it writes (by extension). Adding a format means writing
one `SavingFormat` subclass and listing it in `FORMATS`.
"""

import os
import shutil
import tempfile
import zipfile
import zlib

from keraslike.saving import keras_archive, keras_h5, legacy_h5, legacy_h5_writer, native
from keraslike.saving.atomic import atomic_path
from keraslike.saving.errors import NotAnHDF5FileError, SavedFileError

_ZIP = b"PK"
_HDF5 = b"\x89HDF"


class FileKind:
    """What a file on disk is, read once from its first bytes (and, for HDF5, its attributes)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.magic = f.read(8)
            self.header_start = f.read(1)  # a safetensors header (JSON) starts with `{`
        self.is_zip = self.magic.startswith(_ZIP)
        self.is_hdf5 = self.magic.startswith(_HDF5)
        self._legacy = None

    @property
    def is_legacy_h5(self):
        """Whether the HDF5 file is a tf.keras / Keras 2 `.h5` (model or weights)."""
        if self._legacy is None:
            with open_h5(self.path) as f:
                self._legacy = legacy_h5.is_legacy_file(f)
        return self._legacy


def open_h5(path):
    """Opens an HDF5 file for reading; a `SavedFileError` naming it when it is not one."""
    h5py = keras_h5.import_h5py()
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise NotAnHDF5FileError(path, f"not a valid HDF5 file ({e}).") from None


def _suffix(path):
    return os.path.basename(path).lower()


class SavingFormat:
    """One file format. Subclasses override what they support; the rest raises `ValueError`."""

    name = "format"

    def saves_model(self, path):
        return False

    def saves_weights(self, path):
        return False

    def can_read(self, kind):
        return False

    def save(self, model, path, overwrite=True, include_optimizer=True):
        raise ValueError(f"Saving a whole model is not supported by the {self.name} format.")

    def load(self, path, custom_objects=None, compile=True, safe_mode=True):
        raise ValueError(f"Loading a whole model is not supported by the {self.name} format.")

    def save_weights(self, model, path, overwrite=True):
        raise ValueError(f"Saving weights is not supported by the {self.name} format.")

    def load_weights(self, model, path, skip_mismatch=False):
        raise ValueError(f"Loading weights is not supported by the {self.name} format.")


class KerasArchiveFormat(SavingFormat):
    """Keras 3's `.keras` zip archive (config.json, metadata.json, model.weights.h5)."""

    name = "Keras archive (.keras)"

    def saves_model(self, path):
        return _suffix(path).endswith(".keras")

    def can_read(self, kind):
        return kind.is_zip

    def save(self, model, path, overwrite=True, include_optimizer=True):
        keras_archive.save_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)

    def load(self, path, custom_objects=None, compile=True, safe_mode=True):
        return keras_archive.load_model(
            path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )

    def load_weights(self, model, path, skip_mismatch=False):
        with keras_archive.open_archive(path) as zf:
            if keras_archive.WEIGHTS not in zf.namelist():
                raise SavedFileError(path, f"the archive has no {keras_archive.WEIGHTS!r} member.")
            h5py = keras_h5.import_h5py()
            with tempfile.TemporaryDirectory(prefix="keraslike-keras-") as scratch:
                local = os.path.join(scratch, "weights.h5")
                try:
                    with zf.open(keras_archive.WEIGHTS) as src, open(local, "wb") as dst:
                        shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
                    message = f"cannot read {keras_archive.WEIGHTS!r} from the archive ({e})."
                    raise SavedFileError(path, message) from None
                with h5py.File(local, "r") as f:
                    keras_h5.read_weights(f, model, path, skip_mismatch=skip_mismatch)


class LegacyH5Format(SavingFormat):
    """tf.keras / Keras 2 / Keras 3 legacy `.h5` model files (read and written) and weights
    files (read)."""

    name = "legacy HDF5 (.h5)"

    def saves_model(self, path):
        return _suffix(path).endswith((".h5", ".hdf5"))

    def can_read(self, kind):
        return kind.is_hdf5 and kind.is_legacy_h5

    def save(self, model, path, overwrite=True, include_optimizer=True):
        legacy_h5_writer.save_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)

    def load(self, path, custom_objects=None, compile=True, safe_mode=True):
        with open_h5(path) as f:
            return legacy_h5.load_model(
                f, path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
            )

    def load_weights(self, model, path, skip_mismatch=False):
        with open_h5(path) as f:
            legacy_h5.load_weights(model, f, path, skip_mismatch=skip_mismatch)


class WeightsH5Format(SavingFormat):
    """Keras 3's `.weights.h5` (weights, Keras's layouts and HDF5 groups)."""

    name = "Keras weights (.weights.h5)"

    def saves_weights(self, path):
        return _suffix(path).endswith(".weights.h5")

    def can_read(self, kind):
        return kind.is_hdf5 and not kind.is_legacy_h5

    def load(self, path, custom_objects=None, compile=True, safe_mode=True):
        raise SavedFileError(
            path,
            "it is a Keras 3 weights file (`.weights.h5`), not a model: build the model "
            "and call `model.load_weights(path)`.",
        )

    def save_weights(self, model, path, overwrite=True):
        h5py = keras_h5.import_h5py()
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"{path!r} exists and `overwrite=False`.")
        with atomic_path(path, overwrite=overwrite) as tmp:
            with h5py.File(tmp, "w") as f:
                keras_h5.write_weights(f, model)

    def load_weights(self, model, path, skip_mismatch=False):
        with open_h5(path) as f:
            keras_h5.read_weights(f, model, path, skip_mismatch=skip_mismatch)


class WeightsSafetensorsFormat(SavingFormat):
    """keraslike's `.weights.safetensors` (weights under their `state_dict()` keys)."""

    name = "keraslike weights (.weights.safetensors)"

    def saves_weights(self, path):
        return _suffix(path).endswith(".weights.safetensors")

    def save_weights(self, model, path, overwrite=True):
        native.save_weights(model, path, overwrite=overwrite)

    def load_weights(self, model, path, skip_mismatch=False):
        native.load_weights(model, path, skip_mismatch=skip_mismatch)


class NativeFormat(WeightsSafetensorsFormat):
    """keraslike's single-file model: safetensors with the configs in its header.

    Also the reader of last resort: any file that is not a zip or HDF5 file is read as
    safetensors (its own checks name the problem).
    """

    name = "keraslike (.safetensors)"

    def saves_model(self, path):
        name = _suffix(path)
        return name.endswith(".safetensors") or "." not in name

    def saves_weights(self, path):
        return False

    def can_read(self, kind):
        return not (kind.is_zip or kind.is_hdf5)

    def save(self, model, path, overwrite=True, include_optimizer=True):
        native.save_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)

    def load(self, path, custom_objects=None, compile=True, safe_mode=True):
        return native.load_model(
            path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
        )


FORMATS = [
    KerasArchiveFormat(),
    LegacyH5Format(),
    WeightsH5Format(),
    WeightsSafetensorsFormat(),
    NativeFormat(),
]


def format_for_reading(path):
    """The format that reads the file at `path` (which exists)."""
    kind = FileKind(path)
    _check_contents_match_name(kind)
    for fmt in FORMATS:
        if fmt.can_read(kind):
            return fmt
    raise SavedFileError(path, "no keraslike format reads this file.")  # unreachable: NativeFormat


def _check_contents_match_name(kind):
    """Refuses a file whose name promises a format its first bytes are not, naming the file and
    what it holds (with Keras's exception types: a `.keras` that is not a zip archive is a
    ValueError, an `.h5` that is not HDF5 an OSError), instead of trying it as safetensors."""
    name = _suffix(kind.path)
    start = kind.magic[:8]
    if name.endswith(".keras") and not kind.is_zip:
        raise SavedFileError(
            kind.path,
            f"not a .keras archive: a .keras file is a zip archive, this one starts with {start!r}.",
        )
    if name.endswith((".h5", ".hdf5")) and not kind.is_hdf5:
        raise NotAnHDF5FileError(
            kind.path, f"not an HDF5 file: its name says HDF5, its first bytes are {start!r}."
        )
    if (not kind.is_zip and not kind.is_hdf5 and "." in name and not name.endswith(".safetensors")
            and kind.header_start != b"{"):
        raise SavedFileError(
            kind.path,
            "not a file keraslike reads: Keras 3 reads `.keras` archives (zip), `.weights.h5` "
            "and legacy `.h5` files (HDF5), keraslike also `.safetensors`; this one starts "
            f"with {start!r}.",
        )


def format_saving_model(path):
    """The format that writes a whole model to `path`, or `None`."""
    return next((fmt for fmt in FORMATS if fmt.saves_model(path)), None)


def format_saving_weights(path):
    """The format that writes weights to `path`, or `None`."""
    return next((fmt for fmt in FORMATS if fmt.saves_weights(path)), None)
