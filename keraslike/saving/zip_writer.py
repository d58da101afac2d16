"""Finishes a zip archive around a member that was written in place, at the start of the file.

A `.keras` save writes its HDF5 weights straight into the archive's file: HDF5 is opened on the
(temporary) archive path with a user block of `HEADER_ROOM` bytes, which HDF5 leaves untouched,
so the weights land at offset `HEADER_ROOM` exactly where a zip member's data goes. Then
`finish` writes the member's local header into that room (padded to fill it with an alignment
extra field, id 0xD935 as `zipalign` uses), appends the small members (`config.json`, ...),
and writes the central directory. No temporary HDF5 file, no second copy of the weights.

The member alone is a complete HDF5 file: its superblock records base address `HEADER_ROOM`,
and HDF5 takes the superblock's actual position as the base address when the two differ, which
is how Keras (reading the member through `zipfile`) and keraslike read it.

Members are stored uncompressed, as Keras stores them; zip64 records are written where a size
or offset does not fit 32 bits, as Python's `zipfile` reads them.
"""

import mmap
import os
import struct
import time
import zlib

HEADER_ROOM = 512  # an HDF5 user block: a power of two, at least 512 bytes

_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need zip64 records
_WIDE = 0xFFFFFFFF  # what the 32-bit field then holds
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_PAD_ID = 0xD935
_MADE_BY = (3 << 8) | 45  # Unix, zip spec 4.5


def _narrow(value):
    return value if value < _LIMIT else _WIDE


def _dos_time():
    t = time.localtime()
    stamp = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    date = (max(t.tm_year, 1980) - 1980) << 9 | (t.tm_mon << 5) | t.tm_mday
    return stamp, date


def _local_header(name, crc, size, stamp, room=None):
    """A local file header for a stored member; padded to exactly `room` bytes when given."""
    encoded = name.encode("ascii")
    extra = b""
    if size >= _LIMIT:
        extra = struct.pack("<2H2Q", 1, 16, size, size)
    header_size = _LOCAL.size + len(encoded) + len(extra)
    if room is not None:
        pad = room - header_size - 4
        if pad < 0:
            raise ValueError(f"the zip header of {name!r} does not fit in {room} bytes.")
        extra += struct.pack("<2H", _PAD_ID, pad) + b"\0" * pad
    small = _narrow(size)
    version = 45 if extra[:2] == b"\x01\x00" else 20
    fields = (b"PK\x03\x04", version, 0, 0, *stamp, crc, small, small, len(encoded), len(extra))
    return _LOCAL.pack(*fields) + encoded + extra


def _central_header(name, crc, size, offset, stamp):
    encoded = name.encode("ascii")
    wide = [value for value in (size, size, offset) if value >= _LIMIT]
    extra = struct.pack(f"<2H{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
    small = _narrow(size)
    fields = (
        b"PK\x01\x02", _MADE_BY, 45 if wide else 20, 0, 0, *stamp, crc, small, small,
        len(encoded), len(extra), 0, 0, 0, (0o100644 << 16), _narrow(offset),
    )
    return _CENTRAL.pack(*fields) + encoded + extra


def _crc_of_range(fd, start, end):
    # Mapped, not read: CRC-32 straight from the page cache, no copy into a buffer.
    with mmap.mmap(fd, end, access=mmap.ACCESS_READ) as mapped:
        with memoryview(mapped)[start:end] as view:
            return zlib.crc32(view)


def finish(f, first_name, members):
    """Turns the open file `f` into a zip archive.

    Args:
        f: A binary file opened for reading and writing whose first `HEADER_ROOM` bytes are
            free and whose bytes from there to its end are the member `first_name`.
        first_name: The name of that member (ASCII).
        members: `(name, bytes)` pairs, appended as further stored members.
    """
    stamp = _dos_time()
    end = f.seek(0, os.SEEK_END)
    size = end - HEADER_ROOM
    f.flush()
    crc = _crc_of_range(f.fileno(), HEADER_ROOM, end)
    entries = [(first_name, crc, size, 0)]
    f.seek(0)
    f.write(_local_header(first_name, crc, size, stamp, room=HEADER_ROOM))
    f.seek(end)
    offset = end
    for name, data in members:
        crc = zlib.crc32(data)
        header = _local_header(name, crc, len(data), stamp)
        f.write(header)
        f.write(data)
        entries.append((name, crc, len(data), offset))
        offset += len(header) + len(data)
    directory = b"".join(_central_header(name, crc, n, at, stamp) for name, crc, n, at in entries)
    f.write(directory)
    count = len(entries)
    if offset >= _LIMIT or len(directory) >= _LIMIT:
        end64 = offset + len(directory)
        f.write(_END64.pack(b"PK\x06\x06", 44, _MADE_BY, 45, 0, 0, count, count, len(directory), offset))
        f.write(_LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
    f.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, _narrow(len(directory)),
                      _narrow(offset), 0))
