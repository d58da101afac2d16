"""Hashing and HashedCrossing: bucket ids equal to Keras's (FarmHash / SipHash, as TensorFlow).

The hashes run on the host (Python), as Keras's run on the CPU through TensorFlow; the ids come
back as a torch tensor on the input's device.
"""


import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.preprocessing._hash_functions import (
    _MASK,
    as_hash_bytes,
    fingerprint64,
    hash_buckets,
)
from keraslike.layers.preprocessing._host import HostDataLayer, is_string_like, to_string_array
from keraslike.layers.preprocessing.category_encoding import (
    ENCODE_MODES,
    check_output_mode,
    encode_categorical,
)


def _salt_pair(layer_name, salt):
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return list(salt)
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    raise ValueError(
        f"The `salt` argument for `{layer_name}` can only be a tuple of size 2 integers, or a "
        f"single integer. Received: salt={salt}."
    )


def _host_values(data):
    """`(flat list of values, shape, device)`: strings stay strings, numbers become ints."""
    if isinstance(data, torch.Tensor):
        device = data.device
        if data.is_floating_point():
            data = data.to(torch.int64)  # Keras casts floats to int64 before hashing
        array = data.detach().cpu().numpy()
        return array.reshape(-1).tolist(), array.shape, device
    if is_string_like(data):
        array = to_string_array(data)
        return array.reshape(-1).tolist(), array.shape, None
    array = np.asarray(data)
    if array.dtype.kind == "f":
        array = array.astype(np.int64)
    return array.reshape(-1).tolist(), array.shape, None


class Hashing(HostDataLayer):
    """Hashes strings or integers into `num_bins` buckets, with the ids Keras 3 computes.

    Without `salt` the hash is FarmHash Fingerprint64 (TensorFlow's `to_hash_bucket_fast`);
    with `salt` it is SipHash-2-4 keyed by the salt (`to_hash_bucket_strong`). Integers (and
    floats, truncated) are hashed as their decimal strings, as Keras does.

    Args:
        num_bins: Number of buckets (including the mask bucket when `mask_value` is set).
        mask_value: Value that maps to bucket 0 (the others then use buckets
            `1..num_bins-1`).
        salt: An int or a pair of ints keying the strong hash.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
        sparse: Only `False`.

    Input: strings (str, list, numpy array) or integers (tensor, array, list).
    Output: int64 ids of the input's shape (`"int"`), or float encodings.

    Example:

    >>> keras.layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]])
    tensor([[1], [0], [1], [1], [2]])
    """

    def __init__(
        self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs
    ):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else backend_config.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins}."
            )
        output_mode = check_output_mode("Hashing", output_mode, ("int",) + ENCODE_MODES)
        if output_mode == "int" and self.compute_dtype not in ("int32", "int64"):
            raise ValueError(
                'When `output_mode="int"`, `dtype` should be an integer type, \'int32\' or '
                f"'int64'. Received: dtype={kwargs['dtype']}"
            )
        if sparse:
            raise ValueError(f"`sparse=True` is not supported on torch. Received: sparse={sparse}")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = _salt_pair("Hashing", salt)
        self.strong_hash = self.salt is not None
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs):
        values, shape, device = _host_values(inputs)
        if self.output_mode == "one_hot" and len(shape) and shape[-1] == 1:
            shape = shape[:-1]
        bins = self.num_bins
        masked = self.mask_value is not None and bins > 1
        if masked:
            bins -= 1
        ids = hash_buckets(values, bins, self.salt)
        if masked:
            mask_value = self.mask_value
            ids = [0 if v == mask_value else i + 1 for v, i in zip(values, ids)]
        ids = torch.tensor(ids, dtype=torch.int64, device=device).reshape(shape)
        dtype = torch_dtype(self.compute_dtype)
        return encode_categorical(ids, self.output_mode, self.num_bins, dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_bins": self.num_bins,
                "salt": self.salt,
                "mask_value": self.mask_value,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
            }
        )
        return config


_CROSS_MUL = 0xC6A4A7935BD1E995
_CROSS_KEY = 0xDECAFCAFFE  # TensorFlow's default `hash_key` of `tf.sparse.cross_hashed`


def _shift_mix(v):
    return v ^ (v >> 47)


def _fingerprint_cat64(fp1, fp2):
    result = fp1 ^ _CROSS_MUL
    result ^= (_shift_mix((fp2 * _CROSS_MUL) & _MASK) * _CROSS_MUL) & _MASK
    result = (result * _CROSS_MUL) & _MASK
    result = (_shift_mix(result) * _CROSS_MUL) & _MASK
    return _shift_mix(result)


def _feature_fingerprint(value):
    # TensorFlow's cross uses int64 features as they are, strings through Fingerprint64.
    if isinstance(value, (str, bytes)):
        return fingerprint64(as_hash_bytes(value))
    return int(value) & _MASK


class HashedCrossing(HostDataLayer):
    """Crosses categorical features (a tuple of inputs) by hashing each combination.

    Ids equal Keras's (`tf.sparse.cross_hashed`: FarmHash fingerprints combined with
    `FingerprintCat64`, then `mod num_bins`).

    Args:
        num_bins: Number of hash buckets.
        output_mode: `"int"` (default) or `"one_hot"`.
        sparse: Only `False`.

    Call arguments:
        inputs: A tuple/list of at least two features of equal shape (scalars, `(batch,)` or
            `(batch, 1)`), strings or integers.

    Example:

    >>> layer = keras.layers.HashedCrossing(num_bins=5)
    >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
    tensor([1, 4, 1, 1, 3])
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if dtype is None:
            dtype = "int64" if output_mode == "int" else backend_config.floatx()
        super().__init__(name=name, dtype=dtype, **kwargs)
        output_mode = check_output_mode("HashedCrossing", output_mode, ("int", "one_hot"))
        if sparse:
            raise ValueError(f"`sparse=True` is not supported on torch. Received: sparse={sparse}")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs):
        if not isinstance(inputs, (tuple, list)) or len(inputs) < 2:
            raise ValueError(
                "`HashedCrossing` should be called on a list or tuple of inputs with at least "
                f"two elements. Received: inputs={inputs}"
            )
        features = [_host_values(x) for x in inputs]
        shape = features[0][1]
        device = next((f[2] for f in features if f[2] is not None), None)
        for _, other_shape, _ in features[1:]:
            if other_shape != shape:
                raise ValueError(
                    "Input shapes must match. Received: inputs="
                    f"{[tuple(f[1]) for f in features]}"
                )
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received: inputs={[tuple(f[1]) for f in features]}"
            )
        ids = []
        for combo in zip(*(f[0] for f in features)):
            h = _CROSS_KEY
            for value in combo:
                h = _fingerprint_cat64(h, _feature_fingerprint(value))
            ids.append(h % self.num_bins)
        out = torch.tensor(ids, dtype=torch.int64, device=device).reshape(shape)
        dtype = torch_dtype(self.compute_dtype)
        return encode_categorical(out, self.output_mode, self.num_bins, dtype)

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if first and first[-1] == 1:
            first = first[:-1]
        return first + (self.num_bins,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_bins": self.num_bins, "output_mode": self.output_mode, "sparse": self.sparse}
        )
        return config


