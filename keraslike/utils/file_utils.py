"""Local file cache, checksums and (optional) downloads, as in `keras.utils.get_file`.

Files live under the Keras cache folder (`$KERAS_HOME`, else `~/.keras`). A file that
is already there is never fetched again; a file whose checksum does not match is an
error that names the file and says what to do (nothing is re-downloaded behind the
user's back). The network is touched in one place only, `download_file`, which
`get_file` looks up at call time, so tests replace it (or pass `downloader=`) and
never reach the network.
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile

from keraslike.utils.progbar import Progbar

_CHUNK = 1 << 20


def keras_home():
    """Returns the Keras cache root: `$KERAS_HOME` if set, else `~/.keras`.

    As in Keras, when the home folder is not writable the root is `/tmp/.keras`.
    The environment is read at each call, so changing `KERAS_HOME` takes effect at once.
    """
    if "KERAS_HOME" in os.environ:
        return os.path.expanduser(os.environ["KERAS_HOME"])
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    return os.path.join(base, ".keras")


def resolve_hasher(algorithm, file_hash=None):
    """Returns a `hashlib` object for `"sha256"`, `"md5"` or `"auto"`.

    `"auto"` picks sha256 for a 64-character `file_hash` and md5 otherwise (Keras's rule).
    """
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(
        f"Unknown hash algorithm: {algorithm!r}. Expected one of 'auto', 'sha256', 'md5'."
    )


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """Computes the sha256 or md5 hash of a file.

    Args:
        fpath: Path to the file.
        algorithm: `"sha256"` (default), `"md5"`, or a `hashlib` hasher object.
        chunk_size: Bytes read at a time.

    Returns:
        The hex digest, as a string.

    Example:

    >>> hash_file("/path/to/empty_file")
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    """Returns whether a file's sha256 or md5 hash equals `file_hash`.

    Args:
        fpath: Path to the file.
        file_hash: The expected hex digest (64 characters: sha256; 32: md5).
        algorithm: `"auto"` (from the length of `file_hash`), `"sha256"` or `"md5"`.
        chunk_size: Bytes read at a time.
    """
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def check_file_hash(fpath, file_hash, algorithm="auto"):
    """Raises a `ValueError` naming `fpath` unless its hash equals `file_hash`.

    Args:
        fpath: Path to the file.
        file_hash: The expected hex digest, or `None` to skip the check.
        algorithm: `"auto"`, `"sha256"` or `"md5"`.
    """
    if file_hash is None:
        return
    hasher = resolve_hasher(algorithm, file_hash)
    actual = hash_file(fpath, hasher)
    if actual != str(file_hash).lower():
        raise ValueError(
            f"Checksum mismatch for {fpath}: its {hasher.name} is {actual}, expected "
            f"{file_hash}. The file is incomplete, corrupted or a different version. "
            "Delete it and load again to re-download it (or put a good copy at that path)."
        )


def download_file(url, destination):
    """Downloads `url` to the path `destination`, showing a progress bar.

    This is the only function of keraslike that touches the network. The bytes go
    to a temporary file beside `destination`, renamed into place once complete, so
    an interrupted download never leaves a partial file under the final name.

    Args:
        url: The URL to fetch.
        destination: Path of the file to write.
    """
    folder = os.path.dirname(os.path.abspath(destination))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url) as response:
            total = response.headers.get("Content-Length")
            bar = Progbar(int(total) if total else None)
            done = 0
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                bar.update(done)
            if total is None:
                bar.update(done, finalize=True)
        os.replace(tmp, destination)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
    *,
    download=True,
    downloader=None,
):
    """Returns the path of a cached file, downloading it first if it is missing.

    By default the file `fname` lives in `~/.keras/datasets/` (`$KERAS_HOME/datasets/`
    when `KERAS_HOME` is set), as in Keras. A file already in the cache is used as is
    (after its checksum is verified when `file_hash` is given).

    Unlike Keras, a cached file whose checksum does not match is not silently
    re-downloaded: a `ValueError` names the file and asks to delete it (or pass
    `force_download=True`).

    Args:
        fname: Name of the file in the cache. If `None`, the last part of `origin`.
            When extracting, the name (without extension) of the extraction folder.
        origin: URL of the file.
        untar: Deprecated, same as `extract=True` with `archive_format="tar"`.
        md5_hash: Deprecated, same as `file_hash` with `hash_algorithm="md5"`.
        file_hash: Expected sha256 or md5 hex digest of the file, or `None`.
        cache_subdir: Folder under the cache root; an absolute path is used as is.
        hash_algorithm: `"auto"`, `"sha256"` or `"md5"`.
        extract: Whether to extract the (tar or zip) archive into a folder.
        archive_format: `"auto"`, `"tar"`, `"zip"`, a list of those, or `None`.
        cache_dir: Cache root; defaults to `$KERAS_HOME` or `~/.keras`.
        force_download: Whether to download even when the file is cached.
        download: If `False`, a missing file is a `FileNotFoundError` instead of a
            download (keraslike extension).
        downloader: Function `(url, destination_path)` used to fetch the file;
            defaults to `download_file` (keraslike extension, for tests and mirrors).

    Returns:
        The path of the file (or of the extraction folder when extracting).

    Example:

    ```python
    path = keras.utils.get_file(
        origin="https://example.com/data.tgz", extract=True, file_hash="<sha256>"
    )
    ```
    """
    if origin is None and (force_download or not fname):
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    cache_dir = keras_home() if cache_dir is None else os.path.expanduser(os.fspath(cache_dir))
    datadir = os.path.join(cache_dir, os.fspath(cache_subdir))

    provided_fname = bool(fname)
    fname = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(
            f"Can't parse the file name from the origin provided: '{origin}'. "
            "Please specify the `fname` argument."
        )
    if os.sep in fname:
        raise ValueError(
            "Paths are not accepted as the `fname` argument. To choose the file's folder, "
            f"use the `cache_dir` argument. Received: fname={fname}"
        )

    extraction_dir = None
    if extract or untar:
        stem = fname.split(".", 1)[0]
        if provided_fname and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{stem}_extracted")
        else:
            target = os.path.join(datadir, f"{fname}_archive")
            extraction_dir = os.path.join(datadir, fname)
    else:
        target = os.path.join(datadir, fname)

    if force_download or not os.path.exists(target):
        if not download:
            raise FileNotFoundError(
                f"{target} is missing and downloading is disabled. Put the file there "
                f"(it can be fetched from {origin}) or allow the download."
            )
        if origin is None:
            raise FileNotFoundError(f"{target} is missing and no `origin` URL was given.")
        os.makedirs(datadir, exist_ok=True)
        fetch = downloader if downloader is not None else download_file
        print(f"Downloading data from {origin}", flush=True)
        try:
            fetch(origin, target)
        except OSError as error:  # URLError, socket errors, refused connections...
            checksum = f" Its {_algorithm_name(file_hash, hash_algorithm)} checksum should be {file_hash}." if file_hash else ""
            raise FileNotFoundError(
                f"Could not download {origin} ({getattr(error, 'reason', error)}). Without a "
                f"network, download the file elsewhere and put it at {target} (the cache folder "
                f"is {datadir}; set KERAS_HOME or `cache_dir` to use another).{checksum}"
            ) from error
    check_file_hash(target, file_hash, hash_algorithm)

    if extraction_dir is not None:
        if not os.path.isdir(extraction_dir) or force_download:
            fmt = "tar" if untar else archive_format
            if not extract_archive(target, extraction_dir, fmt):
                raise ValueError(f"Could not extract {target}: not a {fmt} archive.")
        return extraction_dir
    return target


def _algorithm_name(file_hash, hash_algorithm):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    return "sha256" if len(file_hash) == 64 else "md5"


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (`.tar`, `.tar.gz`, `.tar.bz2`) or zip archive into `path`.

    Members whose path would land outside `path` (absolute paths, `..`, links leaving
    the folder) are refused. Extraction goes to a temporary folder renamed into place,
    so a failure leaves no half-extracted folder.

    Args:
        file_path: Path of the archive.
        path: Folder to extract into.
        archive_format: `"auto"` (tar, then zip), `"tar"`, `"zip"`, a list, or `None`.

    Returns:
        `True` if the archive was recognised and extracted, `False` otherwise.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats)
    file_path, path = os.fspath(file_path), os.fspath(path)
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            opener = tarfile.open
        elif fmt == "zip" and zipfile.is_zipfile(file_path):
            opener = zipfile.ZipFile
        elif fmt in ("tar", "zip"):
            continue
        else:
            raise NotImplementedError(f"Unknown archive format: {fmt!r}.")
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=parent, prefix=".extract-")
        try:
            with opener(file_path) as archive:
                if isinstance(archive, zipfile.ZipFile):
                    for name in archive.namelist():
                        _check_inside(tmp, name, file_path)
                    archive.extractall(tmp)
                elif hasattr(tarfile, "data_filter"):
                    archive.extractall(tmp, filter="data")
                else:  # Python without PEP 706: check names, refuse links.
                    for member in archive.getmembers():
                        _check_inside(tmp, member.name, file_path)
                        if member.issym() or member.islnk():
                            raise ValueError(
                                f"Refusing to extract link {member.name!r} from {file_path}."
                            )
                    archive.extractall(tmp)
            if os.path.isdir(path):
                shutil.rmtree(path)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return True
    return False


def _check_inside(base, name, archive_path):
    base = os.path.realpath(base)
    target = os.path.realpath(os.path.join(base, name))
    if os.path.commonpath([base, target]) != base:
        raise ValueError(f"Refusing to extract {name!r} from {archive_path}: it leaves the folder.")
