"""Keras 3 `.keras` archives: a zip of `config.json`, `metadata.json`, `model.weights.h5` and
the `assets/` files of layers' `save_assets` (`archive_assets`).

Written so Keras 3 loads them (its config schema, its h5 weights layout) and read from Keras 3
(models made of layers keraslike has). Members are read into memory or a private temp folder,
never extracted by the names the archive gives; names that would escape a folder are refused.
"""

import contextlib
import datetime
import json
import os
import shutil
import tempfile
import zipfile
import zlib

from keraslike._version import __version__
from keraslike.saving import archive_assets, keras_h5, materialize, zip_writer
from keraslike.saving.atomic import atomic_path, remove_stale
from keraslike.saving.archive_member import member_file
from keraslike.saving.errors import LoadFailures, MissingMemberError, SavedFileError, malformed_config
from keraslike.saving.native import to_json
from keraslike.serialization import keras_objects, registry

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
KERAS_VERSION = "3.15.1"  # the Keras release whose formats keraslike writes
_MAX_JSON_BYTES = 64 * 1024 * 1024  # a 10,000-layer config is a few MB
_MAX_MEMBERS = 64  # Keras writes 3 (config.json, metadata.json, model.weights.h5) ...
_MAX_ASSETS = 4096  # ... and the files of layers' `save_assets` under `assets/`
_MAX_RATIO = 100  # a member above _RATIO_FLOOR may not expand more than this
_RATIO_FLOOR = 16 * 1024 * 1024
_COPY_BYTES = 16 * 1024 * 1024


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Writes `model` as a Keras 3 `.keras` archive (atomically)."""
    h5py = keras_h5.import_h5py()
    config = to_json(keras_objects.serialize_for_saving(model))
    metadata = json.dumps(
        {
            "keras_version": KERAS_VERSION,
            "keraslike_version": __version__,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }
    )
    assets = archive_assets.collect(model)  # files of layers' `save_assets`
    folder = os.path.dirname(os.path.abspath(os.fspath(filepath)))
    remove_stale(folder, ".keras-save-")  # scratch folders of older saves that were killed
    # HDF5 writes the weights into the archive's own (temporary) file, after a user block that
    # then holds the member's zip header (`zip_writer`): one write of each weight, no copy.
    with atomic_path(filepath, overwrite=overwrite) as tmp:
        with h5py.File(tmp, "w", userblock_size=zip_writer.HEADER_ROOM) as f:
            keras_h5.write_weights(f, model, include_optimizer=include_optimizer)
        with open(tmp, "r+b") as out:
            zip_writer.finish(
                out, WEIGHTS, [(METADATA, metadata.encode()), (CONFIG, config.encode())] + assets
            )


def _check_member_names(zf, filepath):
    infos = zf.infolist()
    assets = sum(1 for info in infos if info.filename.startswith(f"{archive_assets.ASSETS}/"))
    if len(infos) - assets > _MAX_MEMBERS or assets > _MAX_ASSETS:
        raise SavedFileError(
            filepath,
            f"the archive has {len(infos)} members ({assets} assets; a .keras file has 3 and "
            "its layers' assets): refused.",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > _MAX_RATIO:
            raise SavedFileError(
                filepath,
                f"archive member {info.filename!r} expands {ratio:.0f}x to {info.file_size} "
                "bytes: refusing a zip bomb.",
            )
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise SavedFileError(
                filepath,
                f"archive member {name!r} has a path that escapes the archive's folder; refused.",
            )


def _read_json(zf, name, filepath):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise MissingMemberError(
            filepath, f"the .keras archive has no {name!r} member (members: {zf.namelist()})."
        ) from None
    if info.file_size > _MAX_JSON_BYTES:
        raise SavedFileError(
            filepath, f"{name!r} is {info.file_size} bytes, larger than a config can be."
        )
    try:
        raw = zf.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        raise SavedFileError(filepath, f"cannot read {name!r} from the archive ({e}).") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise SavedFileError(filepath, f"{name!r} is not valid JSON ({e}).") from None
    except RecursionError:
        raise SavedFileError(filepath, f"{name!r} is nested too deeply to be a config.") from None


def open_archive(filepath):
    """Opens a `.keras` zip, checking member names; raises `SavedFileError` when it is not one."""
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except zipfile.BadZipFile:
        raise SavedFileError(filepath, "not a .keras archive (not a zip file, or truncated).") from None
    _check_member_names(zf, filepath)
    return zf


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a Keras 3 `.keras` archive (written by Keras 3 or keraslike).

    The model is first built on `meta` and its weight shapes checked against the archive's
    weights file, so a config naming sizes the file does not hold allocates nothing.
    """
    h5py = keras_h5.import_h5py()
    failures = LoadFailures(filepath)
    with open_archive(filepath) as zf:
        config = _read_json(zf, CONFIG, filepath)
        if WEIGHTS not in zf.namelist():
            raise MissingMemberError(
                filepath, f"the .keras archive has no {WEIGHTS!r} member (members: {zf.namelist()})."
            )
        compile_config = config.pop("compile_config", None) if isinstance(config, dict) else None
        with contextlib.ExitStack() as stack:
            source = member_file(zf, WEIGHTS, filepath)
            if source is not None:  # stored uncompressed: HDF5 reads it inside the archive
                stack.enter_context(source)
            else:
                scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="keraslike-keras-"))
                source = os.path.join(scratch, "weights.h5")  # our name, not the archive's
                try:
                    with zf.open(WEIGHTS) as src, open(source, "wb") as dst:
                        shutil.copyfileobj(src, dst, _COPY_BYTES)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
                    message = f"cannot read {WEIGHTS!r} from the archive ({e})."
                    raise SavedFileError(filepath, message) from None
            try:
                f = h5py.File(source, "r")
            except OSError as e:
                message = f"{WEIGHTS!r} is not a valid HDF5 file ({e})."
                raise SavedFileError(filepath, message) from None
            with f, registry.custom_object_scope(custom_objects or {}):
                def deserialize():
                    return keras_objects.deserialize_keras_object(
                        json.loads(json.dumps(config)), custom_objects=custom_objects,
                        safe_mode=safe_mode,
                    )

                with malformed_config(filepath):
                    try:
                        with materialize.skeleton_build():
                            skeleton = deserialize()
                    except (RuntimeError, NotImplementedError):
                        skeleton = None  # a layer whose build needs real values: no pre-check
                    if skeleton is not None:
                        try:
                            keras_h5.check_shapes(f, skeleton, filepath)
                        except (KeyError, RuntimeError, OSError) as error:  # corrupt HDF5 data
                            message = f"its HDF5 data is corrupt ({type(error).__name__}: {error})."
                            raise SavedFileError(filepath, message) from error
                    model = keras_h5.materialized(skeleton) if skeleton is not None else None
                    if model is None:
                        model = deserialize()
                    if compile and compile_config and hasattr(model, "compile_from_config"):
                        model.compile_from_config(compile_config)
                        optimizer = getattr(model, "optimizer", None)
                        if optimizer is not None and not optimizer.built:
                            optimizer.build(model.trainable_weights)
                keras_h5.read_weights(f, model, filepath, skip_mismatch=False, in_place=True,
                                      failures=failures)
        archive_assets.restore(zf, model, filepath, failures)
    failures.finish()  # the layers whose own loading code raised, named as Keras does
    return model
