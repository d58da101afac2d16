"""A zip member stored uncompressed, read in place as a file: no extraction, no temp file.

`.keras` archives store `model.weights.h5` uncompressed (Keras and keraslike both write them so).
HDF5 then reads the member's byte range directly from the archive through `MemberFile`, a
read-only, seekable view of that range, after one pass that checks the member's CRC-32 (what
extracting it would have checked), so a damaged archive is refused, not read.
"""

import os
import struct
import zipfile
import zlib

from keraslike.saving.errors import SavedFileError

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's local file header layout
_CHECK_BYTES = 16 * 1024 * 1024


class MemberFile:
    """A read-only file object over `[offset, offset + size)` of an open file descriptor."""

    def __init__(self, fd, offset, size):
        self._fd, self._offset, self._size, self._pos = fd, offset, size, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def writable(self):
        return False

    def tell(self):
        return self._pos

    def seek(self, pos, whence=os.SEEK_SET):
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self._size - self._pos))
        done = 0
        while done < want:
            got = os.preadv(self._fd, [view[done:want]], self._offset + self._pos + done)
            if got <= 0:
                break  # the file is shorter than its directory says: HDF5 reports the error
            done += got
        self._pos += done
        return done

    def read(self, n=-1):
        if n is None or n < 0:
            n = max(0, self._size - self._pos)
        buffer = bytearray(n)
        got = self.readinto(buffer)
        return bytes(buffer[:got])

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def closed(self):
        return self._fd is None

    def flush(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def member_file(zf, name, filepath):
    """A `MemberFile` over the member `name` of the open `ZipFile` `zf` when it is stored
    uncompressed and its CRC-32 checks out; `None` when it is compressed (extract it instead).

    Raises:
        SavedFileError: When the member's bytes are not where the archive says or fail the CRC.
    """
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED or not isinstance(filepath, (str, os.PathLike)):
        return None
    fd = os.open(os.fspath(filepath), os.O_RDONLY)
    try:
        header = os.pread(fd, _LOCAL_HEADER.size, info.header_offset)
        fields = _LOCAL_HEADER.unpack(header) if len(header) == _LOCAL_HEADER.size else None
        if fields is None or fields[0] != b"PK\x03\x04":
            raise SavedFileError(filepath, f"the archive's entry for {name!r} is damaged.")
        offset = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
        size = info.file_size
        if offset + size > os.fstat(fd).st_size:
            raise SavedFileError(filepath, f"{name!r} is truncated: the archive ends inside it.")
        crc, position, buffer = 0, 0, bytearray(min(_CHECK_BYTES, max(size, 1)))
        while position < size:
            view = memoryview(buffer)[: min(len(buffer), size - position)]
            got = os.preadv(fd, [view], offset + position)
            if got <= 0:
                raise SavedFileError(filepath, f"{name!r} is truncated: the archive ends inside it.")
            crc = zlib.crc32(view[:got], crc)
            position += got
        if crc != info.CRC:
            raise SavedFileError(filepath, f"{name!r} fails its CRC-32 check: the archive is damaged.")
    except BaseException:
        os.close(fd)
        raise
    return MemberFile(fd, offset, size)
