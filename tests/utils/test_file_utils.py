"""get_file: cache lookup, checksums, injectable downloads, safe extraction; no network."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from keraslike.utils import file_utils, get_file


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def no_network(url, destination):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(file_utils, "download_file", no_network)


def _writer(payload, calls=None):
    def download(url, destination):
        if calls is not None:
            calls.append(url)
        with open(destination, "wb") as f:
            f.write(payload)

    return download


def test_hashes_match_keras(tmp_path):
    keras_file_utils = pytest.importorskip("keras.src.utils.file_utils")
    path = tmp_path / "f.bin"
    path.write_bytes(b"hello keraslike")
    for algorithm in ("sha256", "md5"):
        assert file_utils.hash_file(path, algorithm) == keras_file_utils.hash_file(str(path), algorithm)
    md5 = hashlib.md5(b"hello keraslike").hexdigest()
    assert file_utils.validate_file(path, md5) and not file_utils.validate_file(path, "0" * 64)


def test_cache_hit_download_and_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    calls = []
    payload = b"abc"
    sha = hashlib.sha256(payload).hexdigest()
    path = get_file("a.txt", "https://example.invalid/a.txt", file_hash=sha, downloader=_writer(payload, calls))
    assert path == os.path.join(str(tmp_path / "home"), "datasets", "a.txt")
    assert open(path, "rb").read() == payload and len(calls) == 1
    get_file("a.txt", "https://example.invalid/a.txt", file_hash=sha, downloader=_writer(payload, calls))
    assert len(calls) == 1  # cached
    get_file("a.txt", "https://example.invalid/a.txt", downloader=_writer(payload, calls), force_download=True)
    assert len(calls) == 2


def test_name_from_origin_and_md5_hash(tmp_path):
    payload = b"xyz"
    path = get_file(origin="https://example.invalid/dir/file.dat", cache_dir=tmp_path,
                    md5_hash=hashlib.md5(payload).hexdigest(), downloader=_writer(payload))
    assert path == os.path.join(str(tmp_path), "datasets", "file.dat")


def test_mismatch_raises_and_names_the_file(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "a.txt").write_bytes(b"corrupt")
    with pytest.raises(ValueError, match=r"Checksum mismatch for .*a\.txt.*Delete it"):
        get_file("a.txt", "https://example.invalid/a.txt", file_hash="0" * 64, cache_dir=tmp_path)


def test_download_disabled_and_argument_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="downloading is disabled"):
        get_file("a.txt", "https://example.invalid/a.txt", cache_dir=tmp_path, download=False)
    with pytest.raises(ValueError, match="origin"):
        get_file()
    with pytest.raises(ValueError, match="cache_dir"):
        get_file(os.path.join("sub", "a.txt"), "https://example.invalid/a.txt", cache_dir=tmp_path)


def test_download_file_is_what_get_file_calls_by_default(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(file_utils, "download_file", _writer(b"1", calls))
    get_file("b.txt", "https://example.invalid/b.txt", cache_dir=tmp_path)
    assert calls == ["https://example.invalid/b.txt"]


def _tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_extract_tar_and_zip(tmp_path):
    folder = get_file("pack.tar.gz", "https://example.invalid/pack.tar.gz", extract=True, cache_dir=tmp_path,
                      downloader=_writer(_tar_bytes({"pack/a.txt": b"A"})))
    assert folder.endswith("pack_extracted")
    assert open(os.path.join(folder, "pack", "a.txt"), "rb").read() == b"A"

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("z/b.txt", "B")
    folder = get_file("zipped", "https://example.invalid/z.zip", extract=True, cache_dir=tmp_path,
                      downloader=_writer(buf.getvalue()))
    assert folder == os.path.join(str(tmp_path), "datasets", "zipped")
    assert open(os.path.join(folder, "z", "b.txt")).read() == "B"


def test_extraction_refuses_paths_leaving_the_folder(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.txt", "x")
    archive = tmp_path / "evil.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="leaves the folder"):
        file_utils.extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()
    evil_tar = tmp_path / "evil.tar.gz"
    evil_tar.write_bytes(_tar_bytes({"../evil2.txt": b"x"}))
    with pytest.raises(tarfile.TarError):
        file_utils.extract_archive(evil_tar, tmp_path / "out2")
    assert not (tmp_path / "evil2.txt").exists()


def test_offline_download_says_where_to_put_the_file(tmp_path, capsys):
    import urllib.error

    def offline(origin, target):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    digest = "a" * 64
    with pytest.raises(FileNotFoundError) as info:
        get_file("mnist.npz", origin="https://example.com/mnist.npz", cache_dir=str(tmp_path),
                 file_hash=digest, downloader=offline)
    message = str(info.value)
    target = os.path.join(str(tmp_path), "datasets", "mnist.npz")
    assert "Could not download https://example.com/mnist.npz" in message
    assert "name resolution" in message and f"put it at {target}" in message
    assert f"sha256 checksum should be {digest}" in message
    assert not os.path.exists(target)
