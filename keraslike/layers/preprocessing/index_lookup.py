"""IndexLookup: the vocabulary machinery shared by StringLookup, IntegerLookup and
TextVectorization, with Keras 3's index layout, adapt ordering, OOV hashing and encodings.

Index layout (Keras's): `[mask_token (int output only)] + [oov_token] * num_oov_indices +
vocabulary`. `adapt` orders tokens by count, ties broken by token, both descending (Keras's
`np.lexsort((tokens, counts))[::-1]`; strings compare as UTF-8 bytes).

Saving: Keras keeps an adapted vocabulary in an asset file of its `.keras` archive; keraslike
saves one file of tensors plus JSON, so `get_config()` of an adapted layer carries the
vocabulary (and tf-idf weights) under `vocabulary` / `idf_weights`, and a layer rebuilt from
it gives the same outputs.
"""

import collections
import itertools
import os

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.preprocessing._hash_functions import hash_buckets
from keraslike.layers.preprocessing._host import HostDataLayer, iterate_batches
from keraslike.layers.preprocessing.category_encoding import (
    check_output_mode,
    encode_categorical,
)

LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _listify(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return value


def read_vocabulary_file(path, is_string=True):
    """The lines of a vocabulary file (one token per line, trailing empty lines dropped)."""
    if not os.path.exists(path):
        raise ValueError(
            f"Vocabulary file {path} does not exist. Received: vocabulary={path!r}"
        )
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return lines if is_string else [int(line) for line in lines]


class IndexLookup(HostDataLayer):
    """Maps tokens to indices through a vocabulary (base of the lookup layers; not public)."""

    _is_string = True

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="farmhash",
        salt=None,
        **kwargs,
    ):
        name = type(self).__name__
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                "If pad_to_max_tokens is True, must set `max_tokens`. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "`num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"The `oov_method` argument of layer {name} should be one of 'floormod', "
                f"'farmhash'. Received: oov_method={oov_method!r}"
            )
        output_mode = check_output_mode(name, output_mode, LOOKUP_MODES)
        if invert and output_mode != "int":
            raise ValueError(
                "`output_mode` must be `'int'` when `invert` is true. "
                f"Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(
                f"`sparse=True` is not supported by {name} on torch. Received: sparse={sparse}"
            )
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                f"Received: idf_weights={idf_weights} and output_mode={output_mode}"
            )
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(
                    f"The `salt` argument for `{name}` can only be a tuple of 2 integers, or "
                    f"a single integer. Received: salt={salt}."
                )
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = []
        self._index = {}
        self._lookup_dict = {}
        if mask_token is not None:
            self._lookup_dict[mask_token] = 0 if output_mode == "int" else -2
        self._idf = None
        self._reset_counts()
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(
                "When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                "`idf_weights` argument must also be provided."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ------------------------------------------------------------------ vocabulary

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The size of the vocabulary, including the mask and OOV indices."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """Returns the vocabulary (index `i` is the token of output `i` when special tokens
        are included)."""
        if not include_special_tokens:
            return list(self._tokens)
        specials = [self.oov_token] * self._token_start_index()
        if self.mask_token is not None and self.output_mode == "int":
            specials[0] = self.mask_token
        return specials + list(self._tokens)

    def _coerce_token(self, token):
        if self._is_string:
            return token.decode("utf-8") if isinstance(token, bytes) else str(token)
        return int(token)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and tf-idf weights) directly, replacing any present.

        Args:
            vocabulary: A list / tuple / 1D array / tensor of tokens, or the path of a text
                file with one token per line. It may start with the special tokens (mask,
                OOV), in Keras's order, or leave them out.
            idf_weights: Inverse document frequencies, same length as `vocabulary`; required
                for (and only for) `output_mode="tf_idf"`.
        """
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, str):
            vocabulary = read_vocabulary_file(vocabulary, self._is_string)
            if self.output_mode == "tf_idf":
                raise ValueError(
                    "output_mode `'tf_idf'` does not support loading a vocabulary from file."
                )
        flat = np.asarray(_listify(vocabulary), dtype=object).reshape(-1)
        vocabulary = [self._coerce_token(t) for t in flat]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index()
        special += [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                "The passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {repeated}"
            )
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                "Found reserved mask token at unexpected location in `vocabulary`. Note that "
                "passed `vocabulary` does not need to include the OOV and mask tokens. Either "
                "remove all mask and OOV tokens, or include them only at the start of the "
                f"vocabulary in precisely this order: {special}. Received: "
                f"mask_token={self.mask_token} at vocabulary index "
                f"{vocabulary.index(self.mask_token)}"
            )
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError(
                "Found reserved OOV token at unexpected location in `vocabulary`. Note that "
                "passed `vocabulary` does not need to include the OOV and mask tokens. Either "
                "remove all mask and OOV tokens, or include them only at the start of the "
                f"vocabulary in precisely this order: {special}. Received: "
                f"oov_token={self.oov_token} at vocabulary index {vocabulary.index(self.oov_token)}"
            )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {token_start + len(tokens)}; `max_tokens` is "
                f"{self.max_tokens}."
            )
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf = np.asarray(_listify(idf_weights), dtype=np.float64)
            if idf.ndim != 1:
                raise ValueError(
                    "TF-IDF data must be a 1-index array. "
                    f"Received: type(idf_weights)={type(idf_weights)}"
                )
            if len(idf) != len(vocabulary):
                raise ValueError(
                    "`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                    f"{len(idf)}; len(vocabulary) is {len(vocabulary)}"
                )
            if not found_special:
                idf = np.concatenate([np.full(token_start, np.average(idf)), idf])
            self._set_idf(idf)

    def _set_tokens(self, tokens):
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        # The mask token maps to 0 in "int" mode; elsewhere to -2, which encodings drop.
        self._lookup_dict = dict(self._index)
        if self.mask_token is not None:
            self._lookup_dict[self.mask_token] = 0 if self.output_mode == "int" else -2
        self._on_vocabulary_changed()
        self._record_vocabulary_size()

    def _on_vocabulary_changed(self):
        """Hook for subclasses that keep device-side tables."""

    def _set_idf(self, idf):
        if self.pad_to_max_tokens and self.max_tokens is not None and len(idf) < self.max_tokens:
            idf = np.concatenate([idf, np.zeros(self.max_tokens - len(idf))])
        self._idf = torch.as_tensor(np.asarray(idf), dtype=torch_dtype(backend_config.floatx()))

    def _record_vocabulary_size(self):
        size = self.vocabulary_size()
        if (
            self.output_mode != "int"
            and not self.pad_to_max_tokens
            and self._frozen_vocab_size is not None
            and self._frozen_vocab_size != size
            and self._called
        ):
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "the vocabulary size cannot be changed after the layer is called. Old vocab "
                f"size is {self._frozen_vocab_size}, new vocab size is {size}"
            )
        self._frozen_vocab_size = size

    # ------------------------------------------------------------------ adapt

    def _reset_counts(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0
        self._called = False

    def reset_state(self):
        """Clears the counts gathered by `update_state`."""
        if not self._has_input_vocabulary:
            self._reset_counts()

    def adapt(self, data, steps=None):
        """Computes a vocabulary of tokens from `data`, most frequent first.

        Args:
            data: A list, numpy array or tensor of tokens (one batch), or an iterable of
                batches (a `DataLoader`, `PyDataset`, generator...; `(x, y)` batches use `x`).
            steps: Number of batches to read from an iterable (all if `None`).
        """
        self.reset_state()
        for batch in iterate_batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def _flat_tokens(self, data):
        """Token rows (documents) of a batch as lists of vocabulary-typed tokens."""
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        array = np.asarray(data, dtype=object)
        if array.ndim == 0:
            array = array.reshape(1, 1)
        elif array.ndim == 1:
            array = array.reshape(1, -1)
        rows = array.reshape(array.shape[0], -1)
        return [[self._coerce_token(t) for t in row] for row in rows]

    def update_state(self, data):
        """Adds the tokens of one batch to the counts (`data`: array/list or token rows)."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        self._count_rows(self._flat_tokens(data))

    def _count_rows(self, rows):
        counts = self._token_counts
        for row in rows:
            counts.update(row)
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row))
            self._num_documents += len(rows)

    def finalize_state(self):
        """Turns the counts into the vocabulary (and tf-idf weights)."""
        if self._has_input_vocabulary or not self._token_counts:
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        if self._is_string:
            key = lambda item: (item[1], item[0].encode("utf-8"))  # noqa: E731
        else:
            key = lambda item: (item[1], item[0])  # noqa: E731
        ordered = sorted(counts.items(), key=key, reverse=True)
        if self.max_tokens:
            ordered = ordered[: self.max_tokens - self._token_start_index()]
        tokens = [t for t, _ in ordered]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            doc_counts = np.array([self._document_counts[t] for t in tokens], dtype=np.float64)
            idf = np.log(1 + self._num_documents / (1 + doc_counts)).astype(
                backend_config.floatx()
            )
            mean = np.mean(idf) if len(idf) else 0.0
            self._set_idf(np.concatenate([np.full(self._token_start_index(), mean), idf]))
        self._reset_counts()

    # ------------------------------------------------------------------ call

    def _ensure_known_vocab_size(self):
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if not self._tokens and self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data."
            )

    def _oov_ids(self, values):
        """Ids of out-of-vocabulary `values` (a flat list), hashed into the OOV range."""
        n = self.num_oov_indices
        start = self._oov_start_index()
        if not self._is_string and self.oov_method != "farmhash":
            return [start + int(v) % n for v in values]
        return [start + b for b in hash_buckets(values, n, self.salt)]

    def lookup_flat(self, flat):
        """Ids (list of ints) of a flat list of tokens, with masking and OOV handling."""
        ids = list(map(self._lookup_dict.get, flat, itertools.repeat(-1, len(flat))))
        if -1 in ids:
            if self.num_oov_indices == 0:
                oov = sorted({t for t, i in zip(flat, ids) if i == -1}, key=str)
                raise ValueError(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV "
                    f"values {oov}, consider setting `num_oov_indices=1`."
                )
            if self.num_oov_indices == 1:
                start = self._oov_start_index()
                ids = [start if i == -1 else i for i in ids]
            else:
                where = [k for k, i in enumerate(ids) if i == -1]
                for k, oov_id in zip(where, self._oov_ids([flat[k] for k in where])):
                    ids[k] = oov_id
        return ids

    def _encode(self, ids):
        """`ids` (an int64 tensor) -> the layer's output for its `output_mode`."""
        self._called = True
        if self.output_mode == "int":
            return ids
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        dtype = torch_dtype(backend_config.floatx())
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(ids, mode, depth, dtype)
        if self.output_mode == "tf_idf":
            out = out * self._idf[:depth].to(out.device)
        return out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def get_config(self):
        config = super().get_config()
        vocabulary = _listify(self.input_vocabulary)
        idf_weights = _listify(self.input_idf_weights)
        if vocabulary is None and self._tokens:
            # An adapted (or file) vocabulary travels in the config: see the module docstring.
            vocabulary = self.get_vocabulary(include_special_tokens=True)
            if self.output_mode == "tf_idf":
                idf_weights = self._idf[: self.vocabulary_size()].tolist()
        config.update(
            {
                "invert": self.invert,
                "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices,
                "oov_token": self.oov_token,
                "mask_token": self.mask_token,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": idf_weights,
                "vocabulary": vocabulary,
                "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method,
                "salt": self.salt,
            }
        )
        return config
