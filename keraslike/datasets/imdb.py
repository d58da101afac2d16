"""IMDB sentiment classification dataset."""

import json

import numpy as np

from keraslike.datasets import _files, _sequences

ORIGIN = _files.KERAS_ORIGIN + "imdb.npz"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = _files.KERAS_ORIGIN + "imdb_word_index.json"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(
    path="imdb.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
    *,
    download=True,
    **kwargs,
):
    """Loads the [IMDB dataset](https://ai.stanford.edu/~amaas/data/sentiment/).

    This is a dataset of 25,000 movies reviews from IMDB, labeled by sentiment
    (positive/negative). Reviews have been preprocessed, and each review is encoded
    as a list of word indexes (integers). For convenience, words are indexed by
    overall frequency in the dataset, so that for instance the integer "3" encodes
    the 3rd most frequent word in the data. As a convention, "0" does not stand for
    a specific word, but instead is used to encode the pad token.

    **File format (no pickle).** Keras's `imdb.npz` stores the reviews as `dtype=object`
    arrays, which only pickle can read, and keraslike never unpickles a dataset file.
    keraslike reads a pickle-free `.npz` instead: each ragged array (`x_train`,
    `x_test`) is stored as `<name>_values` (all reviews concatenated) and
    `<name>_offsets` (`int64` boundaries, one more than the number of reviews);
    labels are stored as plain arrays. For a relative `path`, the file
    `imdb_flat.npz` beside `imdb.npz` is read when it exists. Given Keras's pickled
    file (downloaded if missing and allowed), `load_data` raises a `ValueError`
    that says whether its sha256 matches Keras's and shows the one-time conversion
    with `keraslike.datasets.save_sequences_npz`. The preprocessing below is
    Keras's, so the results are identical to Keras's for the same arguments.

    Args:
        path: Where the data is cached, relative to the datasets folder
            (`$KERASLIKE_DATASETS_DIR`, else `$KERAS_HOME/datasets`, else
            `~/.keras/datasets`), or an absolute path to a pickle-free file.
        num_words: integer or None. Words are ranked by how often they occur (in the
            training set) and only the `num_words` most frequent words are kept. Any
            less frequent word will appear as `oov_char` value in the sequence data.
            If None, all words are kept. Defaults to `None`.
        skip_top: skip the top N most frequently occurring words (which may not be
            informative). These words will appear as `oov_char` value in the
            dataset. When 0, no words are skipped. Defaults to `0`.
        maxlen: int or None. Maximum sequence length. Sequences of `maxlen` words or
            more (counting `start_char`) are dropped. None means no filtering.
        seed: int. Seed for reproducible data shuffling.
        start_char: int. The start of a sequence will be marked with this character.
            0 is usually the padding character. Defaults to `1`.
        oov_char: int. The out-of-vocabulary character. Words that were cut out
            because of the `num_words` or `skip_top` limits will be replaced with
            this character.
        index_from: int. Index actual words with this index and higher.
        download: If `True` (default), a missing file is downloaded (Keras's
            pickled file, to be converted as explained above); if `False`, a
            missing file is a `FileNotFoundError`. A function `(url, destination)`
            is used to fetch it instead.

    Returns:
        Tuple of Numpy arrays: `(x_train, y_train), (x_test, y_test)`.

    **`x_train`, `x_test`**: 1-D object arrays of sequences, which are lists of
      indexes (Python ints). If the num_words argument was specific, the maximum
      possible index value is `num_words - 1`. If the `maxlen` argument was
      specified, the largest possible sequence length is `maxlen`.

    **`y_train`, `y_test`**: integer label arrays (1 or 0).

    **Note**: The 'out of vocabulary' character is only used for words that were
    present in the training set but are not included because they're not making the
    `num_words` cut here. Words that were not seen in the training set but are in
    the test set have simply been skipped.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    path = _sequences.resolve(path, ORIGIN, SHA256, download)
    ragged, labels = _sequences.load(path, ("x_train", "x_test"), ("y_train", "y_test"), SHA256)

    rng = np.random.RandomState(seed)
    splits = []
    for split in ("train", "test"):
        values, offsets = ragged[f"x_{split}"]
        order = np.arange(len(offsets) - 1)
        rng.shuffle(order)
        flat, lengths = _sequences.reorder(values, offsets, order)
        flat, lengths = _sequences.shift_and_start(flat, lengths, start_char, index_from)
        y = labels[f"y_{split}"][order]
        if maxlen:
            keep = lengths < maxlen
            flat = flat[np.repeat(keep, lengths)]
            lengths, y = lengths[keep], y[keep]
        splits.append((flat, lengths, y))
    if maxlen and (len(splits[0][1]) == 0 or len(splits[1][1]) == 0):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, "
            "no sequence was kept. Increase maxlen."
        )

    num_train = len(splits[0][1])
    flat = np.concatenate([splits[0][0], splits[1][0]])
    lengths = np.concatenate([splits[0][1], splits[1][1]])
    flat, lengths = _sequences.cut_vocabulary(flat, lengths, num_words, skip_top, oov_char)
    xs = _sequences.to_object_array(flat, lengths)
    ys = np.concatenate([splits[0][2], splits[1][2]])
    return (xs[:num_train], ys[:num_train]), (xs[num_train:], ys[num_train:])


def get_word_index(path="imdb_word_index.json", *, download=True):
    """Retrieves a dict mapping words to their index in the IMDB dataset.

    Args:
        path: where the file is cached, relative to the datasets folder, or an
            absolute path. Its md5 (Keras's) is checked.
        download: as in `load_data`.

    Returns:
        The word index dictionary. Keys are word strings, values are their index
        (add `index_from`, 3 by default, to match the indices in `load_data`'s
        sequences).
    """
    path = _files.fetch(path, WORD_INDEX_ORIGIN, WORD_INDEX_MD5, download)
    with open(path) as f:
        return json.load(f)
