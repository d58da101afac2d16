"""TextVectorization: strings -> token ids or encodings, with Keras 3's standardization,
splitting, n-grams, vocabulary ordering and output modes, on host data (no TensorFlow)."""

import itertools
import re

import numpy as np
import torch

from keraslike.layers.preprocessing._host import (
    HostDataLayer,
    is_string_like,
    iterate_batches,
    to_string_array,
)
from keraslike.layers.preprocessing.category_encoding import check_output_mode
from keraslike.layers.preprocessing.index_lookup import LOOKUP_MODES
from keraslike.layers.preprocessing.lookups import StringLookup

# Keras's `tf.strings.regex_replace(inputs, r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']', "")`
# (`,-\.` is the range `,-.`), and `tf.strings.lower`, which lowers ASCII letters only.
_PUNCTUATION = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
_STRIP_TABLE = str.maketrans("", "", _PUNCTUATION)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LOWER_STRIP_TABLE = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", _PUNCTUATION
)
# `tf.strings.split` (no separator) splits on ASCII whitespace only; `str.split()` also on these.
_ASCII_SPACE = re.compile(r"[ \t\n\v\f\r]+")
_ASCII_OTHER_SPACE = "\x1c\x1d\x1e\x1f"
_OTHER_SPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _standardize_strings(strings, mode):
    if mode == "lower_and_strip_punctuation":
        return [
            s.lower().translate(_STRIP_TABLE) if s.isascii() else s.translate(_LOWER_STRIP_TABLE)
            for s in strings
        ]
    if mode == "lower":
        return [s.lower() if s.isascii() else s.translate(_ASCII_LOWER) for s in strings]
    return [s.translate(_STRIP_TABLE) for s in strings]


def _split_whitespace(strings):
    if _OTHER_SPACE.search("\n".join(strings)) is None:
        return [s.split() for s in strings]
    return [[t for t in _ASCII_SPACE.split(s) if t] for s in strings]


def _has_other_space(joined):
    """Whether `joined` holds a character `str.split` treats as whitespace and Keras does not."""
    if joined.isascii():  # a few substring scans instead of a regex pass
        return any(c in joined for c in _ASCII_OTHER_SPACE)
    return _OTHER_SPACE.search(joined) is not None


def _lower_strip_split(strings):
    """The default standardize + split in one pass (the hot path of adapt and call)."""
    joined = "\n".join(strings)
    if _has_other_space(joined):
        return _split_whitespace(_standardize_strings(strings, "lower_and_strip_punctuation"))
    if joined.isascii() and joined.count("\n") == len(strings) - 1:
        # One lower + translate over all the text, then back to rows (no string holds "\n").
        return list(map(str.split, joined.lower().translate(_STRIP_TABLE).split("\n")))
    table, ascii_table = _LOWER_STRIP_TABLE, _STRIP_TABLE
    return [
        s.lower().translate(ascii_table).split() if s.isascii() else s.translate(table).split()
        for s in strings
    ]


def _ngrams(tokens, widths):
    out = []
    for n in widths:
        if n == 1:
            out.extend(tokens)
        else:
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _check_choice(arg, value, allowed):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(
        f"The `{arg}` argument of layer TextVectorization should be one of "
        f"{', '.join(repr(a) for a in allowed)}, None or a callable. Received: {arg}={value!r}"
    )


class TextVectorization(HostDataLayer):
    """Turns strings into token ids (or multi-hot / count / tf-idf vectors).

    Each string is standardized, split into tokens, optionally turned into n-grams, and
    looked up in a vocabulary (`vocabulary=` or learned by `adapt()`); index 0 is padding
    (`""`) and index 1 the OOV token `"[UNK]"`. Works on host data (Python strings, lists,
    numpy string arrays: torch has no string tensors) and returns torch tensors, so it sits
    in the data pipeline (or a `Dataset`'s `__getitem__` / `collate_fn`), as in Keras 3 on
    torch.

    Args:
        max_tokens: Maximum vocabulary size, padding and OOV included.
        standardize: `"lower_and_strip_punctuation"` (default), `"lower"`,
            `"strip_punctuation"`, `None`, or a callable taking and returning a numpy array
            of strings. As Keras (TensorFlow), only ASCII letters are lowered.
        split: `"whitespace"` (default), `"character"`, `None` (inputs are tokens already),
            or a callable taking a 1D numpy array of strings and returning token lists.
        ngrams: `None`, an int `n` (all n-grams up to `n`) or a tuple of widths.
        output_mode: `"int"` (default), `"multi_hot"`, `"count"` or `"tf_idf"`.
        output_sequence_length: In `"int"` mode, pad or truncate to this many tokens
            (otherwise pad to the longest in the batch).
        pad_to_max_tokens: For the encodings, give `max_tokens` columns.
        vocabulary: List of tokens or a vocabulary file path.
        idf_weights: For `"tf_idf"` with a given vocabulary.
        sparse, ragged: Only `False` (as Keras on torch).
        encoding: Encoding of `bytes` inputs.

    Input shape:
        `(batch,)` or `(batch, 1)` strings (or one string).

    Output shape:
        `"int"`: `(batch, sequence_length)` int64; otherwise `(batch, num_tokens)` floats.

    Example:

    >>> vectorizer = keras.layers.TextVectorization(output_sequence_length=4)
    >>> vectorizer.adapt(["the cat sat", "the dog"])
    >>> vectorizer(["the cat ran"])
    tensor([[2, 4, 1, 0]])
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        _check_choice("standardize", standardize, _STANDARDIZE)
        _check_choice("split", split, _SPLIT)
        output_mode = check_output_mode("TextVectorization", output_mode, LOOKUP_MODES)
        if sparse or ragged:
            raise ValueError(
                "`sparse=True` and `ragged=True` are not supported on torch. "
                f"Received: sparse={sparse}, ragged={ragged}"
            )
        if not (
            ngrams is None
            or isinstance(ngrams, int)
            or isinstance(ngrams, tuple)
            and all(isinstance(item, int) for item in ngrams)
        ):
            raise ValueError(
                "`ngrams` must be None, an integer, or a tuple of integers. "
                f"Received: ngrams={ngrams}"
            )
        if output_mode == "int" and not (
            isinstance(output_sequence_length, int) or output_sequence_length is None
        ):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when `output_mode` "
                f"is 'int'. Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = has_input_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_input_vocabulary,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )

    # ------------------------------------------------------------------ preprocessing

    def _strings(self, inputs):
        """The input strings (a flat list), their numpy array, and the batch shape of the rows."""
        if not is_string_like(inputs):
            raise ValueError(
                f'Layer "{self.name}" (TextVectorization) takes strings (a string, a list of '
                f"strings or a numpy string array). Received: inputs of type "
                f"{type(inputs).__name__}"
                + (f" with dtype {inputs.dtype}" if hasattr(inputs, "dtype") else "")
            )
        array = to_string_array(inputs, self._encoding)
        shape = array.shape
        if self._split is not None:
            if array.ndim > 1:
                if shape[-1] != 1:
                    raise ValueError(
                        "When using `TextVectorization` to tokenize strings, the input rank must "
                        "be 1 or the last shape dimension must be 1. Received: "
                        f"inputs.shape={shape} with rank={array.ndim}"
                    )
                shape = shape[:-1]
        return array.reshape(-1).tolist(), array, shape

    def _flat_tokens(self, inputs):
        """`(tokens, tokens per row, shape)` of the default standardize + split, without a list
        per row (100k small lists make Python's cyclic GC rescan the heap many times over), or
        `None` where the fast path does not apply."""
        if (self._standardize != "lower_and_strip_punctuation" or self._split != "whitespace"
                or self._ngrams is not None or not is_string_like(inputs)):
            return None
        strings, _, shape = self._strings(inputs)
        joined = "\n".join(strings)
        if (not joined.isascii() or _has_other_space(joined)
                or joined.count("\n") != len(strings) - 1):
            return None
        text = joined.lower().translate(_STRIP_TABLE)
        lengths = np.fromiter(map(len, map(str.split, text.split("\n"))), dtype=np.int64,
                              count=len(strings))
        return text.split(), lengths, shape

    def _rows(self, inputs):
        """Standardized, split (and n-grammed) token rows, and the batch shape they form."""
        strings, array, shape = self._strings(inputs)
        standardize = self._standardize
        if standardize == "lower_and_strip_punctuation" and self._split == "whitespace":
            rows = _lower_strip_split(strings)
            if self._ngrams is not None:
                rows = [_ngrams(row, self._ngrams) for row in rows]
            return rows, shape
        if standardize is None:
            pass
        elif callable(standardize):
            strings = np.asarray(standardize(np.array(strings, dtype=str))).reshape(-1).tolist()
            strings = [
                s.decode(self._encoding) if isinstance(s, bytes) else str(s) for s in strings
            ]
        else:
            strings = _standardize_strings(strings, standardize)
        split = self._split
        if split == "whitespace":
            rows = _split_whitespace(strings)
        elif split == "character":
            rows = [list(s) for s in strings]
        elif callable(split):
            rows = [[str(t) for t in row] for row in split(np.array(strings, dtype=str))]
        else:
            width = shape[-1] if array.ndim > 1 else 1
            rows = [strings[i : i + width] for i in range(0, len(strings), width)]
            shape = shape[:-1] if array.ndim > 1 else shape
        if self._ngrams is not None:
            rows = [_ngrams(row, self._ngrams) for row in rows]
        return rows, shape

    # ------------------------------------------------------------------ adapt / vocabulary

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary (most frequent tokens first) from `data`.

        Args:
            data: A list / numpy array of strings, or an iterable of such batches
                (a `DataLoader`, a generator, ...; `(x, y)` batches use `x`).
            batch_size: Unused (Keras compatibility).
            steps: Number of batches to read from an iterable (all if `None`).
        """
        self.reset_state()
        for batch in iterate_batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        if (
            self._standardize == "lower_and_strip_punctuation"
            and self._split == "whitespace"
            and self._ngrams is None
            and lookup.output_mode != "tf_idf"
            and isinstance(data, (list, tuple, np.ndarray))
            and is_string_like(data)
        ):
            strings = to_string_array(data, self._encoding).reshape(-1).tolist()
            joined = "\n".join(strings)
            if joined.isascii() and not _has_other_space(joined):
                # The hot path: one lower + translate + split over all the text ("\n" is
                # whitespace, so the tokens are those of each string), counted in C.
                lookup._token_counts.update(joined.lower().translate(_STRIP_TABLE).split())
                return
        rows, _ = self._rows(data)
        if lookup.output_mode == "tf_idf":
            lookup._count_rows(rows)
        else:
            lookup._token_counts.update(itertools.chain.from_iterable(rows))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary; with special tokens, index `i` is the token of id `i`."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The vocabulary size, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list or a file path) and, for tf-idf, the idf weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------------ call

    def call(self, inputs):
        lookup = self._lookup_layer
        lookup._ensure_known_vocab_size()
        length = self._output_sequence_length
        fast = self._flat_tokens(inputs)
        if fast is not None:
            flat, lengths, shape = fast
            ids = np.asarray(lookup.lookup_flat(flat), dtype=np.int64)
            if length is not None and len(ids) and lengths.max() > length:
                position = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                ids = ids[position < length]
                lengths = np.minimum(lengths, length)
        else:
            rows, shape = self._rows(inputs)
            plain = self._split is None and self._ngrams is None and length is None
            if self._output_mode == "int" and plain:
                ids = lookup.lookup_flat([t for row in rows for t in row])
                return torch.tensor(ids, dtype=torch.int64).reshape(
                    to_string_array(inputs).shape
                )
            if length is not None:
                rows = [row[:length] for row in rows]
            lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
            flat = list(itertools.chain.from_iterable(rows))
            ids = np.asarray(lookup.lookup_flat(flat), dtype=np.int64)
        width = length if length is not None else int(lengths.max(initial=0))
        pad = 0 if self._output_mode == "int" else -1
        out = np.full((len(lengths), width), pad, dtype=np.int64)
        out[np.arange(width) < lengths[:, None]] = ids
        result = torch.from_numpy(out)
        if self._output_mode != "int":
            result = lookup._encode(result)
        else:
            lookup._called = True
        if len(shape) == 0:
            result = result.squeeze(0)
        return result

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        depth = self._lookup_layer.max_tokens if self._lookup_layer.pad_to_max_tokens else (
            self._lookup_layer._frozen_vocab_size
        )
        return (input_shape[0], depth)

    def get_config(self):
        config = super().get_config()
        lookup = self._lookup_layer
        lookup_config = lookup.get_config()
        config.update(
            {
                "max_tokens": lookup.max_tokens,
                "standardize": self._standardize,
                "split": self._split,
                "ngrams": self._ngrams_arg,
                "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens,
                "sparse": lookup.sparse,
                "ragged": self._ragged,
                "vocabulary": lookup_config["vocabulary"],
                "idf_weights": lookup_config["idf_weights"],
                "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
