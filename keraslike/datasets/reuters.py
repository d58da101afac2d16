"""Reuters topic classification dataset."""

import json

import numpy as np

from keraslike.datasets import _files, _sequences

ORIGIN = _files.KERAS_ORIGIN + "reuters.npz"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = _files.KERAS_ORIGIN + "reuters_word_index.json"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    *,
    download=True,
):
    """Loads the Reuters newswire classification dataset.

    This is a dataset of 11,228 newswires from Reuters, labeled over 46 topics.
    Each newswire is encoded as a list of word indexes (integers). For convenience,
    words are indexed by overall frequency in the dataset, so that for instance the
    integer "3" encodes the 3rd most frequent word in the data. As a convention,
    "0" does not stand for a specific word, but instead is used to encode any
    unknown word.

    **File format (no pickle).** Keras's `reuters.npz` stores the newswires as
    `dtype=object` arrays, which only pickle can read, and keraslike never unpickles
    a dataset file. keraslike reads a pickle-free `.npz` instead, holding `x_values`
    (all newswires concatenated), `x_offsets` (`int64` boundaries, one more than
    the number of newswires) and `y`. For a relative `path`, the file
    `reuters_flat.npz` beside `reuters.npz` is read when it exists. Given Keras's
    pickled file (downloaded if missing and allowed), `load_data` raises a
    `ValueError` that says whether its sha256 matches Keras's and shows the
    one-time conversion with `keraslike.datasets.save_sequences_npz`. The
    preprocessing below is Keras's, so the results are identical to Keras's.

    Args:
        path: Where the data is cached, relative to the datasets folder
            (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
            `~/.keras/datasets`), or an absolute path to a pickle-free file.
        num_words: integer or None. Only the `num_words` most frequent words are
            kept; any less frequent word appears as `oov_char`. If None, all words
            are kept.
        skip_top: skip the top N most frequently occurring words. These words will
            appear as `oov_char` value in the dataset. 0 means no words are skipped.
        maxlen: int or None. Sequences of `maxlen` words or more (counting
            `start_char`) are dropped. None means no filtering.
        test_split: Float between `0.` and `1.`. Fraction of the dataset to be used
            as test data. Defaults to `0.2`.
        seed: int. Seed for reproducible data shuffling.
        start_char: int. The start of a sequence will be marked with this character.
            Defaults to `1`.
        oov_char: int. The out-of-vocabulary character.
        index_from: int. Index actual words with this index and higher.
        download: If `True` (default), a missing file is downloaded (Keras's
            pickled file, to be converted as explained above); if `False`, a
            missing file is a `FileNotFoundError`. A function `(url, destination)`
            is used to fetch it instead.

    Returns:
        Tuple of Numpy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: 1-D object arrays of sequences, which are lists of
      indexes (Python ints).

    **`y_train`, `y_test`**: integer arrays of topic labels (0-45).
    """
    path = _sequences.resolve(path, ORIGIN, SHA256, download)
    ragged, labels = _sequences.load(path, ("x",), ("y",), SHA256)
    values, offsets = ragged["x"]
    order = np.arange(len(offsets) - 1)
    np.random.RandomState(seed).shuffle(order)
    flat, lengths = _sequences.reorder(values, offsets, order)
    flat, lengths = _sequences.shift_and_start(flat, lengths, start_char, index_from)
    y = labels["y"][order]
    if maxlen:
        keep = lengths < maxlen
        flat = flat[np.repeat(keep, lengths)]
        lengths, y = lengths[keep], y[keep]
    flat, lengths = _sequences.cut_vocabulary(flat, lengths, num_words, skip_top, oov_char)
    xs = _sequences.to_object_array(flat, lengths)
    idx = int(len(xs) * (1 - test_split))
    return (xs[:idx], y[:idx]), (xs[idx:], y[idx:])


def get_word_index(path="reuters_word_index.json", *, download=True):
    """Retrieves a dict mapping words to their index in the Reuters dataset.

    Actual word indices start from 3, with 3 indices reserved for: 0 (padding),
    1 (start), 2 (oov). E.g. the word index of 'the' is 1, but in the training data
    the index of 'the' is 1 + 3 = 4.

    Args:
        path: where the file is cached, relative to the datasets folder, or an
            absolute path. Its md5 (Keras's) is checked.
        download: as in `load_data`.

    Returns:
        The word index dictionary. Keys are word strings, values are their index.
    """
    path = _files.fetch(path, WORD_INDEX_ORIGIN, WORD_INDEX_MD5, download)
    with open(path) as f:
        return json.load(f)


def get_label_names():
    """Returns the 46 topic names, as a tuple whose indices match the labels."""
    return _LABEL_NAMES
