"""keras.datasets.california_housing against Keras 3's own load_data on the same fake file."""

import numpy as np
import pytest

import keraslike as keras
from keraslike.datasets import california_housing

from dataset_fixtures import sha256


@pytest.fixture
def fake_file(tmp_path, monkeypatch):
    """A fake `california_housing.npz` (650 rows, so "small" cuts it) in a private KERAS_HOME."""
    monkeypatch.delenv("KERASLIKE_DATASETS_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "datasets"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    path = folder / "california_housing.npz"
    # Row i is recognisable: x[i, 0] == i, y[i] == 1000 * i.
    x = np.concatenate([np.arange(650.0)[:, None], rng.normal(size=(650, 7))], axis=1)
    np.savez(path, x=x.astype("float32"), y=(1000.0 * np.arange(650)).astype("float32"))
    monkeypatch.setattr(california_housing, "SHA256", sha256(path))
    return path


def _keras_load(monkeypatch, path, **kwargs):
    import keras.src.datasets.california_housing as keras_california

    monkeypatch.setattr(keras_california, "get_file", lambda *a, **kw: str(path))
    return keras_california.load_data(**kwargs)


@pytest.mark.parametrize("version", ["large", "small"])
@pytest.mark.parametrize("test_split,seed", [(0.2, 113), (0.5, 7), (0.0, 1)])
def test_matches_keras(fake_file, monkeypatch, keras_datasets, version, test_split, seed):
    ours = keras.datasets.california_housing.load_data(
        version=version, test_split=test_split, seed=seed)
    theirs = _keras_load(monkeypatch, fake_file, version=version, test_split=test_split, seed=seed)
    for a, b in zip(ours, theirs):
        for u, v in zip(a, b):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u, v)
    (x_train, y_train), (x_test, y_test) = ours
    n = 600 if version == "small" else 650
    assert len(x_train) == int(n * (1 - test_split)) and len(x_train) + len(x_test) == n
    assert x_train.shape[1:] == (8,) and y_train.shape == (len(x_train),)
    # Rows stay paired, and "small" is the file's first 600 rows.
    rows = np.concatenate([x_train[:, 0], x_test[:, 0]])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), 1000 * rows)
    assert sorted(rows.astype(int)) == list(range(n))


def test_defaults_and_cache_location(fake_file):
    (x_train, _), (x_test, _) = california_housing.load_data()
    assert (len(x_train), len(x_test)) == (520, 130)  # int(650 * 0.8)


def test_bad_arguments_name_the_value(fake_file):
    with pytest.raises(ValueError, match="version=medium"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match="test_split.*1.0"):
        california_housing.load_data(test_split=1.0)


def test_checksum_mismatch_is_an_error(fake_file, monkeypatch):
    monkeypatch.setattr(california_housing, "SHA256", "0" * 64)
    with pytest.raises(ValueError, match="california_housing.npz"):
        california_housing.load_data()


def test_missing_file_offline(tmp_path, monkeypatch):
    monkeypatch.delenv("KERASLIKE_DATASETS_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="california_housing.npz"):
        california_housing.load_data(download=False)
