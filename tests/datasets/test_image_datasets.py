"""MNIST, Fashion-MNIST and CIFAR loaders on tiny fixture files in their real formats."""

import numpy as np
import pytest

import keraslike
from dataset_fixtures import cifar_records, idx_bytes, md5, sha256, write_gz, write_tar_gz
from keraslike.datasets import cifar10, cifar100, fashion_mnist, mnist


def _images(rng, n, shape=(28, 28)):
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


# ---------------------------------------------------------------- MNIST (npz)


def _write_mnist(folder, rng, name="mnist.npz"):
    arrays = {
        "x_train": _images(rng, 10),
        "y_train": rng.integers(0, 10, 10).astype(np.uint8),
        "x_test": _images(rng, 4),
        "y_test": rng.integers(0, 10, 4).astype(np.uint8),
    }
    path = folder / name
    np.savez(path, **arrays)
    return path, arrays


def test_mnist_reads_the_npz_from_the_datasets_folder(datasets_folder, monkeypatch):
    path, arrays = _write_mnist(datasets_folder, np.random.default_rng(0))
    monkeypatch.setattr(mnist, "SHA256", sha256(path))
    (x_train, y_train), (x_test, y_test) = keraslike.datasets.mnist.load_data()
    assert x_train.dtype == np.uint8 and x_train.shape == (10, 28, 28)
    assert y_train.dtype == np.uint8 and y_train.shape == (10,)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])


def test_mnist_accepts_an_absolute_path_and_keras_home(tmp_path, monkeypatch):
    path, arrays = _write_mnist(tmp_path, np.random.default_rng(1), name="elsewhere.npz")
    monkeypatch.setattr(mnist, "SHA256", sha256(path))
    (x_train, _), _ = mnist.load_data(path=str(path))
    np.testing.assert_array_equal(x_train, arrays["x_train"])

    # Without the keraslike override, files come from $KERAS_HOME/datasets (Keras's cache).
    monkeypatch.delenv("KERASLIKE_DATASETS_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "datasets").mkdir(parents=True)
    _write_mnist(tmp_path / "home" / "datasets", np.random.default_rng(1))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_mnist_checksum_mismatch_names_the_file_and_the_fix(datasets_folder):
    path, _ = _write_mnist(datasets_folder, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Checksum mismatch") as info:
        mnist.load_data()  # the real Keras sha256 cannot match a fixture
    message = str(info.value)
    assert str(path) in message and mnist.SHA256 in message and "Delete it" in message


def test_missing_file_without_download_is_file_not_found(datasets_folder):
    with pytest.raises(FileNotFoundError, match="mnist.npz"):
        mnist.load_data(download=False)


def test_missing_file_is_fetched_with_the_injected_downloader(datasets_folder, tmp_path, monkeypatch):
    source, arrays = _write_mnist(tmp_path, np.random.default_rng(2), name="source.npz")
    monkeypatch.setattr(mnist, "SHA256", sha256(source))
    calls = []

    def fake_download(url, destination):
        calls.append(url)
        with open(destination, "wb") as f:
            f.write(source.read_bytes())

    (x_train, _), _ = mnist.load_data(download=fake_download)
    assert calls == [mnist.ORIGIN]
    assert (datasets_folder / "mnist.npz").exists()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    mnist.load_data(download=fake_download)  # now cached: no second download
    assert len(calls) == 1


def test_a_corrupted_download_is_a_checksum_error(datasets_folder):
    def bad_download(url, destination):
        with open(destination, "wb") as f:
            f.write(b"not the file")

    with pytest.raises(ValueError, match="Checksum mismatch.*mnist.npz"):
        mnist.load_data(download=bad_download)


def test_truncated_npz_is_a_clear_error(datasets_folder, monkeypatch):
    path, _ = _write_mnist(datasets_folder, np.random.default_rng(0))
    path.write_bytes(path.read_bytes()[:-200])
    monkeypatch.setattr(mnist, "SHA256", sha256(path))
    with pytest.raises(ValueError, match="not a complete .npz file"):
        mnist.load_data()


def test_mnist_matches_keras_on_the_same_file(datasets_folder, monkeypatch, keras_datasets):
    import keras.src.datasets.mnist as keras_mnist

    path, _ = _write_mnist(datasets_folder, np.random.default_rng(3))
    monkeypatch.setattr(mnist, "SHA256", sha256(path))
    monkeypatch.setattr(keras_mnist, "get_file", lambda **kwargs: str(path))
    for ours, theirs in zip(mnist.load_data(), keras_datasets.datasets.mnist.load_data()):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- Fashion-MNIST (IDX gz)


def _write_fashion(folder, rng, n_train=10, n_test=3):
    folder = folder / "fashion-mnist"
    folder.mkdir(exist_ok=True)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        data[prefix] = (_images(rng, n), rng.integers(0, 10, n).astype(np.uint8))
        write_gz(folder / f"{prefix}-images-idx3-ubyte.gz", idx_bytes(data[prefix][0]))
        write_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", idx_bytes(data[prefix][1]))
    return folder, data


def _trust_fashion_files(folder, monkeypatch):
    monkeypatch.setattr(
        fashion_mnist, "FILES", {name: md5(folder / name) for name in fashion_mnist.FILES}
    )


def test_fashion_mnist_reads_idx_gz_files(datasets_folder, monkeypatch):
    folder, data = _write_fashion(datasets_folder, np.random.default_rng(0))
    _trust_fashion_files(folder, monkeypatch)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (10, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (10,) and y_train.dtype == np.uint8
    assert x_test.shape == (3, 28, 28) and y_test.shape == (3,)
    assert x_train.flags.writeable
    np.testing.assert_array_equal(x_train, data["train"][0])
    np.testing.assert_array_equal(y_train, data["train"][1])
    np.testing.assert_array_equal(x_test, data["t10k"][0])
    np.testing.assert_array_equal(y_test, data["t10k"][1])


def test_fashion_mnist_matches_keras(datasets_folder, monkeypatch, keras_datasets):
    import keras.src.datasets.fashion_mnist as keras_fashion

    folder, _ = _write_fashion(datasets_folder, np.random.default_rng(4))
    _trust_fashion_files(folder, monkeypatch)
    monkeypatch.setattr(keras_fashion, "get_file", lambda fname, **kw: str(folder / fname))
    for ours, theirs in zip(fashion_mnist.load_data(), keras_datasets.datasets.fashion_mnist.load_data()):
        for a, b in zip(ours, theirs):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_truncated_idx_file_reports_expected_and_actual_sizes(datasets_folder, monkeypatch):
    folder, data = _write_fashion(datasets_folder, np.random.default_rng(0))
    name = "train-images-idx3-ubyte.gz"
    full = idx_bytes(data["train"][0])
    write_gz(folder / name, full[:-100])  # a valid gzip of a cut IDX file
    _trust_fashion_files(folder, monkeypatch)
    with pytest.raises(ValueError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert name in message and "truncated" in message
    assert f"expected {len(full)} bytes, found {len(full) - 100}" in message


def test_truncated_gzip_stream_is_a_clear_error(datasets_folder, monkeypatch):
    folder, _ = _write_fashion(datasets_folder, np.random.default_rng(0))
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-6])
    _trust_fashion_files(folder, monkeypatch)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz is not a complete gzip file"):
        fashion_mnist.load_data()


def test_fashion_mnist_checksum_mismatch(datasets_folder):
    _write_fashion(datasets_folder, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Checksum mismatch for .*fashion-mnist.*md5"):
        fashion_mnist.load_data()


# ---------------------------------------------------------------- CIFAR (binary version)


def _cifar10_fixture(rng, per_batch=2, n_test=3):
    members, images, labels = {}, [], []
    for i in range(1, 6):
        x = rng.integers(0, 256, size=(per_batch, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, per_batch).astype(np.uint8)
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = cifar_records(y, x)
        images.append(x)
        labels.append(y)
    x_test = rng.integers(0, 256, size=(n_test, 3, 32, 32), dtype=np.uint8)
    y_test = rng.integers(0, 10, n_test).astype(np.uint8)
    members["cifar-10-batches-bin/test_batch.bin"] = cifar_records(y_test, x_test)
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"
    return members, (np.concatenate(images), np.concatenate(labels)), (x_test, y_test)


def test_cifar10_reads_the_binary_archive_channels_last(datasets_folder, monkeypatch):
    members, (x, y), (xt, yt) = _cifar10_fixture(np.random.default_rng(0))
    archive = write_tar_gz(datasets_folder / "cifar-10-binary.tar.gz", members)
    monkeypatch.setattr(cifar10, "MD5", md5(archive))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1) and y_test.dtype == np.uint8
    assert x_train.flags.c_contiguous
    np.testing.assert_array_equal(x_train, x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], y)
    np.testing.assert_array_equal(x_test, xt.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test[:, 0], yt)
    # The red channel of pixel (row 1, col 2) is byte 1 * 32 + 2 of the record's image.
    record = np.frombuffer(members["cifar-10-batches-bin/data_batch_1.bin"], np.uint8)
    assert x_train[0, 1, 2, 0] == record[1 + 1 * 32 + 2]
    assert x_train[0, 1, 2, 2] == record[1 + 2048 + 1 * 32 + 2]


def test_cifar10_channels_first_and_extracted_folder(datasets_folder):
    members, (x, _), _ = _cifar10_fixture(np.random.default_rng(1))
    for name, data in members.items():  # an extracted folder, no archive: no checksum to check
        (datasets_folder / name).parent.mkdir(exist_ok=True)
        (datasets_folder / name).write_bytes(data)
    keraslike.backend.set_image_data_format("channels_first")
    try:
        (x_train, _), _ = cifar10.load_data()
    finally:
        keraslike.backend.set_image_data_format("channels_last")
    assert x_train.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(x_train, x)


def test_cifar10_truncated_batch_reports_sizes(datasets_folder, monkeypatch):
    members, _, _ = _cifar10_fixture(np.random.default_rng(0))
    name = "cifar-10-batches-bin/data_batch_3.bin"
    members[name] = members[name][:-10]
    archive = write_tar_gz(datasets_folder / "cifar-10-binary.tar.gz", members)
    monkeypatch.setattr(cifar10, "MD5", md5(archive))
    with pytest.raises(ValueError) as info:
        cifar10.load_data()
    message = str(info.value)
    assert "data_batch_3.bin" in message and "truncated" in message
    assert f"expected {2 * 3073} bytes, found {2 * 3073 - 10}" in message


def test_cifar10_truncated_archive_and_checksum(datasets_folder, monkeypatch):
    members, _, _ = _cifar10_fixture(np.random.default_rng(0))
    archive = write_tar_gz(datasets_folder / "cifar-10-binary.tar.gz", members)
    with pytest.raises(ValueError, match="Checksum mismatch for .*cifar-10-binary.tar.gz"):
        cifar10.load_data()
    archive.write_bytes(archive.read_bytes()[:5000])
    monkeypatch.setattr(cifar10, "MD5", md5(archive))
    with pytest.raises(ValueError, match="cifar-10-binary.tar.gz is not a complete tar.gz"):
        cifar10.load_data()


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_label_modes(datasets_folder, monkeypatch, label_mode):
    rng = np.random.default_rng(0)
    members, expected = {}, {}
    for name, n in (("train.bin", 6), ("test.bin", 2)):
        x = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        coarse, fine = rng.integers(0, 20, n), rng.integers(0, 100, n)
        members[f"cifar-100-binary/{name}"] = cifar_records(np.stack([coarse, fine], 1), x)
        expected[name] = (x, fine if label_mode == "fine" else coarse)
    archive = write_tar_gz(datasets_folder / "cifar-100-binary.tar.gz", members)
    monkeypatch.setattr(cifar100, "MD5", md5(archive))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert x_train.shape == (6, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (6, 1) and y_train.dtype == np.int64  # Keras's actual dtype
    np.testing.assert_array_equal(x_train, expected["train.bin"][0].transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], expected["train.bin"][1])
    np.testing.assert_array_equal(y_test[:, 0], expected["test.bin"][1])
    assert x_test.shape == (2, 32, 32, 3)


def test_cifar100_rejects_unknown_label_mode():
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")
