"""Writers of tiny fixture files in each dataset's on-disk format."""

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def idx_bytes(array):
    """IDX encoding of a uint8 array: magic (0, 0, 0x08, ndim), big-endian dims, data."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.tobytes()


def write_gz(path, payload):
    path.write_bytes(gzip.compress(payload))
    return path


def cifar_records(labels, images_chw):
    """CIFAR binary records: label byte(s) then 3072 pixel bytes (channels first)."""
    labels = np.asarray(labels, dtype=np.uint8).reshape(len(images_chw), -1)
    flat = np.asarray(images_chw, dtype=np.uint8).reshape(len(images_chw), -1)
    return np.concatenate([labels, flat], axis=1).tobytes()


def write_tar_gz(path, members):
    """A .tar.gz holding `{name: bytes}`."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
