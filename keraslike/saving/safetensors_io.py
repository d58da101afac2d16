"""Reading and writing the safetensors container, by hand, with no extra copies.

The format: 8 bytes little-endian header length `n`, `n` bytes of JSON (tensor name ->
`{"dtype", "shape", "data_offsets"}`, plus `"__metadata__"`: str -> str), then the tensor bytes.
Files written here are ordinary safetensors files (`safetensors.safe_open` reads them).

Why by hand: the header is validated against the file size *before* anything is allocated (a
header cannot make us allocate more than the file holds), tensors are written straight from
their memory and read straight into the destination parameters (`readinto`), so saving and
loading cost one pass over the bytes and no second copy of the weights.
"""

import json
import math
import os
import struct
import sys

import torch

from keraslike.saving.atomic import atomic_write
from keraslike.saving.errors import SavedFileError, SavedFileNotFoundError

_DTYPES = {
    "BOOL": torch.bool,
    "U8": torch.uint8,
    "I8": torch.int8,
    "I16": torch.int16,
    "I32": torch.int32,
    "I64": torch.int64,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F32": torch.float32,
    "F64": torch.float64,
}
for _name, _attr in [("U16", "uint16"), ("U32", "uint32"), ("U64", "uint64"),
                     ("F8_E4M3", "float8_e4m3fn"), ("F8_E5M2", "float8_e5m2")]:
    if hasattr(torch, _attr):
        _DTYPES[_name] = getattr(torch, _attr)
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}

MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit
_CHUNK = 64 * 1024 * 1024  # bytes per read/write call (large calls can fail on some systems)


class TensorInfo:
    """One tensor of a safetensors file: dtype, shape and absolute byte range in the file."""

    __slots__ = ("name", "dtype", "shape", "start", "end")

    def __init__(self, name, dtype, shape, start, end):
        self.name, self.dtype, self.shape, self.start, self.end = name, dtype, shape, start, end

    @property
    def nbytes(self):
        return self.end - self.start


class Header:
    """The parsed, validated header of a safetensors file.

    Attributes:
        path: The file.
        metadata: The `__metadata__` dict (str -> str), empty when absent.
        tensors: Dict name -> `TensorInfo`, in file order.
    """

    def __init__(self, path, metadata, tensors):
        self.path = path
        self.metadata = metadata
        self.tensors = tensors


def check_exists(path):
    """Raises `SavedFileNotFoundError` (a ValueError and FileNotFoundError) for a missing path."""
    if not os.path.exists(path):
        raise SavedFileNotFoundError(path)
    if os.path.isdir(path):
        raise SavedFileError(path, "it is a directory, not a file.")


def read_header(path):
    """Parses and validates the header of the safetensors file at `path`.

    Every tensor's dtype, shape and byte range are checked against each other and against the
    size of the file before any tensor memory is allocated.

    Raises:
        SavedFileError: (a ValueError) naming the file and the problem: too short, not a
            safetensors file, invalid header JSON, a tensor whose bytes lie past the end of the
            file (truncated), inconsistent offsets.
    """
    path = os.fspath(path)
    check_exists(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise SavedFileError(
                path,
                f"not a safetensors file: it has {size} bytes, fewer than the 8-byte header length.",
            )
        (n,) = struct.unpack("<Q", prefix)
        if n == 0 or n > MAX_HEADER_BYTES:
            raise SavedFileError(
                path, f"not a safetensors file: its first 8 bytes give a header length of {n} bytes."
            )
        if n > size - 8:
            raise SavedFileError(
                path,
                f"truncated or not a safetensors file: the header claims {n} bytes but the file has "
                f"only {size - 8} bytes after the length prefix.",
            )
        raw = f.read(n)
    if not raw.lstrip().startswith(b"{"):
        raise SavedFileError(path, "not a safetensors file: the header is not a JSON object.")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SavedFileError(path, f"invalid safetensors header JSON ({e}).") from None
    except RecursionError:
        raise SavedFileError(path, "invalid safetensors header: JSON nested too deeply.") from None
    if not isinstance(header, dict):
        raise SavedFileError(path, "invalid safetensors header: the JSON is not an object.")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise SavedFileError(
            path, "invalid safetensors header: `__metadata__` must map strings to strings."
        )
    data_start = 8 + n
    data_size = size - data_start
    tensors = {}
    for name, entry in header.items():
        tensors[name] = _tensor_info(path, name, entry, data_start, data_size)
    ordered = sorted(tensors.values(), key=lambda t: t.start)
    expected = data_start
    for info in ordered:
        if info.start != expected and info.nbytes:
            raise SavedFileError(
                path,
                f"invalid safetensors header: tensor {info.name!r} starts at byte "
                f"{info.start - data_start} of the data, expected {expected - data_start} "
                "(overlapping or non-contiguous tensors).",
            )
        expected = max(expected, info.end)
    return Header(path, metadata, {info.name: info for info in ordered})


def _tensor_info(path, name, entry, data_start, data_size):
    if not isinstance(entry, dict):
        raise SavedFileError(path, f"invalid safetensors header: entry {name!r} is not an object.")
    dtype = _DTYPES.get(entry.get("dtype"))
    if dtype is None:
        raise SavedFileError(
            path, f"tensor {name!r} has an unsupported dtype {entry.get('dtype')!r}."
        )
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise SavedFileError(path, f"tensor {name!r} has an invalid shape {shape!r}.")
    offsets = entry.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise SavedFileError(path, f"tensor {name!r} has invalid data_offsets {offsets!r}.")
    begin, end = offsets
    itemsize = torch.empty((), dtype=dtype).element_size()
    expected = math.prod(shape) * itemsize
    if end - begin != expected:
        raise SavedFileError(
            path,
            f"tensor {name!r} of dtype {entry['dtype']} and shape {tuple(shape)} needs {expected} "
            f"bytes but its data_offsets span {end - begin} bytes.",
        )
    if end > data_size:
        raise SavedFileError(
            path,
            f"truncated file: tensor {name!r} (shape {tuple(shape)}) ends at byte {end} of the "
            f"data, but the file holds only {data_size} bytes of data. The header claims more "
            "data than the file has; the file was cut short or is corrupt.",
        )
    return TensorInfo(name, dtype, tuple(shape), data_start + begin, data_start + end)


def _byte_view(tensor):
    """A writable/readable memoryview of a contiguous CPU tensor's bytes (any dtype)."""
    flat = tensor.reshape(-1)
    if flat.numel() == 0:
        return memoryview(b"")
    return memoryview(flat.view(torch.uint8).numpy()).cast("B")


def _cpu_contiguous(tensor):
    tensor = tensor.detach()
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    return tensor.contiguous()


def _writeback_starter():
    """Linux `sync_file_range(fd, off, n, SYNC_FILE_RANGE_WRITE)`: starts writing a range to disk.

    Starting the disk writes of each chunk while the next is copied overlaps the two, so the
    `fsync` that makes a save durable has little left to wait for. `None` where unavailable.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
        fn.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
        return fn
    except (OSError, AttributeError):
        return None


_START_WRITEBACK = _writeback_starter()


def _write_chunks(f, view):
    for i in range(0, len(view), _CHUNK):
        n = f.write(view[i : i + _CHUNK])
        if _START_WRITEBACK is not None and n:
            f.flush()
            _START_WRITEBACK(f.fileno(), f.tell() - n, n, 2)  # 2: SYNC_FILE_RANGE_WRITE


def write_file(path, tensors, metadata, overwrite=True):
    """Writes `tensors` (name -> tensor) and `metadata` (str -> str) as one safetensors file.

    The write is atomic (temp file + `os.replace`). Each tensor's bytes go from its memory to the
    file with no intermediate copy (tensors on another device are copied to the CPU one at a time).

    Args:
        path: Target file.
        tensors: Dict name -> tensor (written in this order).
        metadata: Dict of strings.
        overwrite: When `False`, an existing file is an error.
    """
    header = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    ordered = []
    for name, tensor in tensors.items():
        if tensor.dtype not in _DTYPE_NAMES:
            raise ValueError(
                f"Cannot save tensor {name!r}: dtype {tensor.dtype} is not supported by safetensors."
            )
        nbytes = tensor.numel() * tensor.element_size()
        header[name] = {
            "dtype": _DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
        ordered.append(tensor)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # align the data to 8 bytes, as safetensors does
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for tensor in ordered:
            _write_chunks(f, _byte_view(_cpu_contiguous(tensor)))


class TensorReader:
    """Reads tensors of a validated file straight into destination tensors.

    Use as a context manager: `with TensorReader(header) as r: r.read_into(info, param)`.
    """

    def __init__(self, header):
        self.header = header
        self._f = None

    def __enter__(self):
        self._f = open(self.header.path, "rb", buffering=0)
        return self

    def __exit__(self, *exc):
        self._f.close()

    def _fill(self, info, view):
        f = self._f
        f.seek(info.start)
        got = 0
        while got < len(view):
            n = f.readinto(view[got : got + _CHUNK])
            if not n:
                message = f"truncated file: tensor {info.name!r} is cut short."
                raise SavedFileError(self.header.path, message)
            got += n

    def read(self, info, device=None):
        """Returns a new tensor with the stored value (CPU, or `device`)."""
        out = torch.empty(info.shape, dtype=info.dtype)
        self._fill(info, _byte_view(out))
        return out if device is None else out.to(device)

    def read_into(self, info, target):
        """Copies the stored value into `target` (same shape), in place.

        Reads straight into `target`'s memory when it is a contiguous CPU tensor of the stored
        dtype; otherwise reads into a temporary and copies (converting dtype / device).
        """
        with torch.no_grad():
            if (
                target.device.type == "cpu"
                and target.dtype == info.dtype
                and target.is_contiguous()
                and not target.is_meta
            ):
                self._fill(info, _byte_view(target.detach()))
            else:
                target.copy_(self.read(info))
