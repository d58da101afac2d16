"""The binary version of CIFAR: fixed-size records of label byte(s) then 3072 pixel bytes."""

import os
import tarfile
import zlib

import numpy as np

from keraslike.backend import config
from keraslike.datasets import _files

_PIXELS = 3 * 32 * 32  # one image, channels first: 1024 red, 1024 green, 1024 blue bytes


def read_members(archive_name, origin, md5, folder, names, download):
    """Returns `{name: bytes}` for the files `folder/name` of a CIFAR binary archive.

    The archive (`cifar-10-binary.tar.gz` / `cifar-100-binary.tar.gz`) is read
    directly, without extracting it. Without the archive, an already extracted
    `folder` in the datasets folder is read instead; with neither, the archive is
    downloaded (if allowed).
    """
    archive = _files.local_path(archive_name)
    extracted = _files.local_path(folder)
    if not os.path.exists(archive) and os.path.isdir(extracted):
        out = {}
        for name in names:
            path = os.path.join(extracted, name)
            if not os.path.isfile(path):
                raise ValueError(f"{path} is missing from the extracted folder {extracted}.")
            with open(path, "rb") as f:
                out[name] = f.read()
        return out

    archive = _files.fetch(archive_name, origin, md5, download)
    wanted = {f"{folder}/{name}": name for name in names}
    out = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is not None and member.isfile():
                    out[name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ValueError(
            f"{archive} is not a complete tar.gz archive ({e}). Delete it and load again "
            "to re-download it."
        ) from e
    missing = [f"{folder}/{n}" for n in names if n not in out]
    if missing:
        raise ValueError(f"{archive} does not contain {missing}.")
    return out


def parse_records(raw, label_bytes, source):
    """Splits CIFAR binary records into labels and images.

    Args:
        raw: The file's bytes.
        label_bytes: Label bytes before each image (1 for CIFAR-10; 2, coarse then
            fine, for CIFAR-100).
        source: File name, for error messages.

    Returns:
        `(labels, images)`: `uint8` arrays of shapes `(N, label_bytes)` and
        `(N, 3, 32, 32)` (channels first, as stored).
    """
    record = label_bytes + _PIXELS
    count = -(-len(raw) // record)  # records announced by the size, rounded up
    _files.check_size(f"{source} ({record}-byte records)", len(raw), count * record)
    records = np.frombuffer(raw, dtype=np.uint8).reshape(count, record)
    labels = records[:, :label_bytes]
    images = records[:, label_bytes:].reshape(count, 3, 32, 32)
    return labels, images


def to_data_format(images):
    """`(N, 3, 32, 32)` images in the global `image_data_format`, as a new contiguous array."""
    if config.image_data_format() == "channels_last":
        return np.ascontiguousarray(images.transpose(0, 2, 3, 1))  # (N, 32, 32, 3)
    return np.ascontiguousarray(images)
