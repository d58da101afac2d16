"""IMDB and Reuters (pickle-free ragged npz) and Boston housing, compared with Keras's loaders."""

import zipfile

import numpy as np
import pytest

import keraslike
from dataset_fixtures import sha256
from keraslike.datasets import boston_housing, imdb, reuters


def _ragged(rng, n, vocab=60):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = rng.integers(1, vocab, size=rng.integers(1, 12)).tolist()
    return out


def _keras_imdb_file(folder, rng, name="imdb.npz"):
    """A file in Keras's format (pickled object arrays), for the oracle and refusal tests."""
    arrays = {
        "x_train": _ragged(rng, 30),
        "y_train": rng.integers(0, 2, 30),
        "x_test": _ragged(rng, 20),
        "y_test": rng.integers(0, 2, 20),
    }
    path = folder / name
    np.savez(path, **arrays)
    return path, arrays


def _same(ours, theirs):
    for (x1, y1), (x2, y2) in zip(ours, theirs):
        assert x1.dtype == x2.dtype == object and x1.shape == x2.shape
        assert [list(s) for s in x1] == [list(s) for s in x2]
        assert all(type(w) is int for s in x1 for w in s)
        assert y1.dtype == y2.dtype
        np.testing.assert_array_equal(y1, y2)


def test_flat_format_round_trip_holds_no_pickle(tmp_path):
    rng = np.random.default_rng(0)
    x = _ragged(rng, 7)
    path = tmp_path / "seq.npz"
    keraslike.datasets.save_sequences_npz(path, x=x, y=np.arange(7), z=[[1, 2], [], [3]])
    with np.load(path, allow_pickle=False) as f:  # would raise if anything were pickled
        assert sorted(f.files) == ["x_offsets", "x_values", "y", "z_offsets", "z_values"]
        values, offsets = f["x_values"], f["x_offsets"]
        assert offsets.dtype == np.int64 and offsets[0] == 0 and offsets[-1] == len(values)
        assert [values[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])] == list(x)
        np.testing.assert_array_equal(f["z_offsets"], [0, 2, 2, 3])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_words": 20},
        {"skip_top": 5, "num_words": 30},
        {"maxlen": 8},
        {"oov_char": None, "num_words": 25, "skip_top": 4},
        {"start_char": None},
        {"start_char": None, "index_from": 0},
        {"seed": 5, "index_from": 2, "oov_char": 7},
    ],
)
def test_imdb_matches_keras(datasets_folder, monkeypatch, keras_datasets, kwargs):
    import keras.src.datasets.imdb as keras_imdb

    keras_file, arrays = _keras_imdb_file(datasets_folder, np.random.default_rng(0))
    keraslike.datasets.save_sequences_npz(datasets_folder / "imdb_flat.npz", **arrays)
    monkeypatch.setattr(keras_imdb, "get_file", lambda **kw: str(keras_file))
    # Default path "imdb.npz": the pickle-free imdb_flat.npz beside it is preferred.
    _same(imdb.load_data(**kwargs), keras_datasets.datasets.imdb.load_data(**kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_words": 20, "skip_top": 3}, {"maxlen": 8}, {"oov_char": None, "num_words": 25},
     {"test_split": 0.5, "seed": 3}, {"start_char": None}],
)
def test_reuters_matches_keras(datasets_folder, monkeypatch, keras_datasets, kwargs):
    import keras.src.datasets.reuters as keras_reuters

    rng = np.random.default_rng(1)
    arrays = {"x": _ragged(rng, 40), "y": rng.integers(0, 46, 40)}
    keras_file = datasets_folder / "keras_reuters.npz"
    np.savez(keras_file, **arrays)
    flat = datasets_folder / "mine.npz"
    keraslike.datasets.save_sequences_npz(flat, **arrays)
    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **kw: str(keras_file))
    _same(reuters.load_data(path=str(flat), **kwargs), keras_datasets.datasets.reuters.load_data(**kwargs))
    assert reuters.get_label_names() == keras_datasets.datasets.reuters.get_label_names()


def test_keras_pickled_file_is_refused_with_conversion_help(datasets_folder):
    path, _ = _keras_imdb_file(datasets_folder, np.random.default_rng(0))
    with pytest.raises(ValueError) as info:
        imdb.load_data()
    message = str(info.value)
    assert str(path) in message and "pickled object arrays" in message
    assert "does NOT match Keras's published file" in message
    assert "save_sequences_npz" in message and "imdb_flat.npz" in message


def test_missing_imdb_without_download(datasets_folder):
    with pytest.raises(FileNotFoundError, match="imdb_flat.npz.*imdb.npz"):
        imdb.load_data(download=False)


def test_corrupted_offsets_are_rejected(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_values=np.arange(5), x_offsets=np.array([0, 3, 9]), y=np.zeros(2))
    with pytest.raises(ValueError, match="x_offsets"):
        reuters.load_data(path=str(path))


def test_imdb_rejects_unknown_keyword():
    with pytest.raises(TypeError, match="nb_words"):
        imdb.load_data(nb_words=10)


def test_imdb_maxlen_too_small(datasets_folder):
    rng = np.random.default_rng(0)
    keraslike.datasets.save_sequences_npz(
        datasets_folder / "imdb_flat.npz",
        x_train=_ragged(rng, 4), y_train=np.zeros(4, int), x_test=_ragged(rng, 3), y_test=np.zeros(3, int),
    )
    with pytest.raises(ValueError, match="Increase maxlen"):
        imdb.load_data(maxlen=1)


def test_word_index_is_json_with_md5(datasets_folder, monkeypatch):
    path = datasets_folder / "imdb_word_index.json"
    path.write_text('{"the": 1, "and": 2}')
    with pytest.raises(ValueError, match="Checksum mismatch.*imdb_word_index.json"):
        imdb.get_word_index()
    import hashlib

    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", hashlib.md5(path.read_bytes()).hexdigest())
    assert imdb.get_word_index() == {"the": 1, "and": 2}


@pytest.mark.parametrize("test_split,seed", [(0.2, 113), (0.5, 7), (0.0, 1)])
def test_boston_housing_matches_keras(datasets_folder, monkeypatch, keras_datasets, test_split, seed):
    import keras.src.datasets.boston_housing as keras_boston

    rng = np.random.default_rng(0)
    path = datasets_folder / "boston_housing.npz"
    np.savez(path, x=rng.normal(size=(11, 13)), y=rng.uniform(10, 50, 11))
    monkeypatch.setattr(boston_housing, "SHA256", sha256(path))
    monkeypatch.setattr(keras_boston, "get_file", lambda *a, **kw: str(path))
    ours = boston_housing.load_data(test_split=test_split, seed=seed)
    theirs = keras_datasets.datasets.boston_housing.load_data(test_split=test_split, seed=seed)
    for a, b in zip(ours, theirs):
        for u, v in zip(a, b):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_array_equal(u, v)
    assert ours[0][0].shape[1] == 13


def test_boston_housing_rejects_bad_split():
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)


def test_loaders_never_unpickle(datasets_folder, monkeypatch):
    """Even given a pickled file, the loaders refuse before any unpickling happens."""
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    _keras_imdb_file(datasets_folder, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pickled object arrays"):
        imdb.load_data()
    with zipfile.ZipFile(datasets_folder / "imdb.npz") as z:
        assert "x_train.npy" in z.namelist()
