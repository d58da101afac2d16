"""The IDX format of (Fashion-)MNIST: a small big-endian header, then raw uint8 data."""

import numpy as np

from keraslike.datasets import _files

_UBYTE = 0x08


def read_idx_gz(path, ndim):
    """Reads a gzip-compressed IDX file of unsigned bytes into a NumPy array.

    Layout: two zero bytes, a type code (0x08: uint8), the number of dimensions `n`,
    `n` big-endian int32 sizes, then the data, row-major.

    Args:
        path: Path of the `.gz` file.
        ndim: Expected number of dimensions (1 for labels, 3 for images).

    Returns:
        A `uint8` array with the shape announced in the header.
    """
    raw = _files.read_gzip(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: it does not start with the IDX magic number.")
    if raw[2] != _UBYTE or raw[3] != ndim:
        raise ValueError(
            f"{path} is not an IDX file of unsigned bytes with {ndim} dimension(s): "
            f"its header says type code 0x{raw[2]:02x} and {raw[3]} dimension(s)."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        _files.check_size(f"{path} (decompressed)", len(raw), header)
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64))
    _files.check_size(f"{path} (decompressed, shape {shape})", len(raw), expected)
    # A copy, so the arrays are writable (torch.from_numpy warns on read-only memory).
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()
