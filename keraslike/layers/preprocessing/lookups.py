"""StringLookup (host strings) and IntegerLookup (integer tensors, on their device)."""

import numpy as np
import torch

from keraslike.layers.preprocessing._host import (
    is_string_like,
    to_number_tensor,
    to_string_array,
)
from keraslike.layers.preprocessing.index_lookup import IndexLookup

_LOOKUP_DOC_ARGS = """
        max_tokens: Maximum vocabulary size, mask and OOV indices included (`None`: no cap).
        num_oov_indices: Number of out-of-vocabulary indices (default 1). With more than one,
            OOV tokens are hashed into them (FarmHash, or SipHash keyed with `salt`).
        mask_token: Token meaning "masked": index 0 in `"int"` mode, dropped from encodings.
        oov_token: The token `get_vocabulary()` and `invert=True` use for OOV indices.
        vocabulary: Optional list/array of tokens, or the path of a text file (one token
            per line). Otherwise call `adapt()`.
        idf_weights: Inverse document frequencies, for `output_mode="tf_idf"` only.
        invert: Map indices back to tokens instead.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"`, `"count"` or `"tf_idf"`.
        pad_to_max_tokens: Encode with `max_tokens` columns, whatever the vocabulary size.
        sparse: Only `False` (no sparse tensors here, as Keras on torch).
"""


class StringLookup(IndexLookup):
    __doc__ = (
        """Maps strings to integer indices through a vocabulary (host data in, torch out).

    Inputs are Python strings, lists (nested) of strings or numpy string/object arrays; the
    output is an `int64` torch tensor of the same shape (`"int"`) or a float encoding.
    With `invert=True`, indices (tensor, array or list) map back to strings (nested lists).

    Args:"""
        + _LOOKUP_DOC_ARGS
        + """        encoding: Text encoding of `bytes` inputs (default `"utf-8"`).
        salt: Key for the OOV hash (an int or two ints); `None` uses FarmHash.

    Example:

    >>> layer = keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]])
    tensor([[1, 3, 4], [4, 0, 2]])
    """
    )

    _is_string = True

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary_dtype="string",
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            salt=salt,
            name=name,
            **kwargs,
        )

    def _flat_tokens(self, data):
        if not is_string_like(data):
            raise ValueError(
                f'Layer "{self.name}" (StringLookup) adapts on strings. Received: data of '
                f"type {type(data).__name__}"
            )
        return super()._flat_tokens(to_string_array(data, self.encoding))

    def call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        self._ensure_known_vocab_size()
        array = to_string_array(inputs, self.encoding)
        ids = self.lookup_flat(array.reshape(-1).tolist())
        ids = torch.tensor(ids, dtype=torch.int64).reshape(array.shape)
        return self._encode(ids)

    def _invert(self, inputs):
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.detach().cpu().numpy()
        ids = np.asarray(inputs)
        vocab = self.get_vocabulary()
        size = len(vocab)
        out = np.array(
            [vocab[i] if 0 <= i < size else self.oov_token for i in ids.reshape(-1).tolist()],
            dtype=object,
        ).reshape(ids.shape)
        return out.tolist()

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    __doc__ = (
        """Maps integers to contiguous indices through a vocabulary, on the input's device.

    Inputs are integer tensors (any device), arrays or lists; outputs are `int64` tensors of
    the same shape (`"int"`) or float encodings. Strings are refused (`ValueError`).

    Args:"""
        + _LOOKUP_DOC_ARGS
        + """        vocabulary_dtype: Only `"int64"`.
        oov_method: How several OOV indices are chosen: `"floormod"` (default, `x mod n`) or
            `"farmhash"` (hash of the decimal string, as Keras).
        salt: Key for the `"farmhash"` OOV method (an int or two ints; SipHash).

    Example:

    >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(torch.tensor([[12, 1138, 42], [42, 1000, 36]]))
    tensor([[1, 3, 4], [4, 0, 2]])
    """
    )

    _is_string = False
    _tables_ready = False

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if vocabulary_dtype != "int64":
            raise ValueError(
                "Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                f"vocabulary_dtype={vocabulary_dtype}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary_dtype=vocabulary_dtype,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )
        if salt is not None and oov_method != "farmhash":
            raise ValueError(
                "`salt` can only be used when `oov_method='farmhash'`. "
                f"Received: oov_method={oov_method}"
            )
        self._on_vocabulary_changed()

    def _on_vocabulary_changed(self):
        # Sorted keys and their ids for `torch.searchsorted`; the inverse table for `invert`.
        # Not saved as weights: the vocabulary is in the config.
        keys = torch.tensor(self._tokens, dtype=torch.int64)
        order = torch.argsort(keys)
        ids = torch.arange(len(self._tokens), dtype=torch.int64) + self._token_start_index()
        device = self._sorted_keys.device if self._tables_ready else None
        self.register_buffer("_sorted_keys", keys[order].to(device), persistent=False)
        self.register_buffer("_sorted_ids", ids[order].to(device), persistent=False)
        inverse = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            inverse[0] = self.mask_token
        self.register_buffer(
            "_inverse", torch.tensor(inverse, dtype=torch.int64).to(device), persistent=False
        )
        self._tables_ready = True

    def _flat_tokens(self, data):
        if is_string_like(data):
            raise ValueError(
                f'Layer "{self.name}" (IntegerLookup) takes integers, but adapt() received '
                f"strings. Received: data={data!r:.80}"
            )
        return super()._flat_tokens(data)

    def call(self, inputs):
        x = to_number_tensor(self, inputs)
        if x.is_floating_point():
            x = x.long()
        x = x.to(torch.int64)
        if self.invert:
            table = self._inverse.to(x.device)
            inside = (x >= 0) & (x < table.shape[0])
            out = table[torch.where(inside, x, 0)]
            return torch.where(inside, out, torch.full_like(out, self.oov_token))
        self._ensure_known_vocab_size()
        keys, values = self._sorted_keys.to(x.device), self._sorted_ids.to(x.device)
        if keys.numel():
            pos = torch.searchsorted(keys, x).clamp(max=keys.shape[0] - 1)
            ids = torch.where(keys[pos] == x, values[pos], -1)
        else:
            ids = torch.full_like(x, -1)
        if self.mask_token is not None:
            mask_id = 0 if self.output_mode == "int" else -2
            ids = torch.where(x == int(self.mask_token), mask_id, ids)
        missing = ids == -1
        start = self._oov_start_index()
        if self.num_oov_indices == 0:
            if bool(missing.any()):  # host sync, as Keras's assertion
                raise ValueError(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV "
                    f"values {x[missing].unique().tolist()}, consider setting "
                    "`num_oov_indices=1`."
                )
        elif self.num_oov_indices == 1:
            ids = torch.where(missing, start, ids)
        elif self.oov_method == "floormod":
            ids = torch.where(missing, start + torch.remainder(x, self.num_oov_indices), ids)
        else:
            hashed = torch.tensor(
                self._oov_ids(x.reshape(-1).tolist()), dtype=torch.int64, device=x.device
            ).reshape(x.shape)
            ids = torch.where(missing, hashed, ids)
        return self._encode(ids)

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
