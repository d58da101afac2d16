"""CategoryEncoding and the one-hot / multi-hot / count encoding the lookup layers share."""

import torch

from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.preprocessing._host import HostDataLayer, to_number_tensor

ENCODE_MODES = ("one_hot", "multi_hot", "count")


def check_output_mode(layer_name, output_mode, allowed):
    """Returns `output_mode` with Keras's deprecated aliases resolved; ValueError if unknown."""
    if output_mode == "binary":
        output_mode = "multi_hot"
    if output_mode == "tf-idf":
        output_mode = "tf_idf"
    if output_mode not in allowed:
        raise ValueError(
            f"The `output_mode` argument of layer {layer_name} should be one of "
            f"{', '.join(repr(m) for m in allowed)}. Received: output_mode={output_mode!r}"
        )
    return output_mode


def encode_categorical(indices, output_mode, depth, dtype=torch.float32, count_weights=None):
    """Encodes integer `indices` as Keras does (`numerical_utils.encode_categorical_inputs`).

    `one_hot` adds a `depth` axis (replacing a last axis of size 1); `multi_hot` and `count`
    reduce axis 1 (axis 0 for a rank-1 input: one sample). Indices outside `[0, depth)` (the
    lookup layers' mask) contribute nothing.
    """
    if output_mode == "int":
        return indices.to(dtype)
    if indices.ndim == 0:
        indices = indices.unsqueeze(-1)
    indices = indices.long()
    valid = (indices >= 0) & (indices < depth)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices, valid = indices.squeeze(-1), valid.squeeze(-1)
        out = torch.nn.functional.one_hot(torch.where(valid, indices, 0), depth)
        return (out * valid.unsqueeze(-1)).to(dtype)
    if count_weights is not None:
        dtype = count_weights.dtype
    squeeze = indices.ndim == 1
    if squeeze:
        indices, valid = indices.unsqueeze(0), valid.unsqueeze(0)
        if count_weights is not None:
            count_weights = count_weights.unsqueeze(0)
    if indices.ndim == 2:
        # (B, N) -> (B, depth): scatter into an extra overflow column that is then dropped.
        target = torch.where(valid, indices, depth)
        if output_mode == "multi_hot":
            src = torch.ones(target.shape, dtype=dtype, device=target.device)
            out = torch.zeros((target.shape[0], depth + 1), dtype=dtype, device=target.device)
            out = out.scatter(1, target, src)
        else:
            src = (
                count_weights.to(dtype)
                if count_weights is not None
                else torch.ones(target.shape, dtype=dtype, device=target.device)
            )
            out = torch.zeros((target.shape[0], depth + 1), dtype=dtype, device=target.device)
            out = out.scatter_add(1, target, src)
        out = out[:, :depth]
        return out.squeeze(0) if squeeze else out
    hot = torch.nn.functional.one_hot(torch.where(valid, indices, 0), depth)
    hot = (hot * valid.unsqueeze(-1)).to(dtype)
    if output_mode == "multi_hot":
        return hot.amax(dim=1)
    if count_weights is not None:
        hot = hot * count_weights.unsqueeze(-1)
    return hot.sum(dim=1)


class CategoryEncoding(HostDataLayer):
    """Encodes integer features as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: The number of tokens; inputs must be in `[0, num_tokens)` (values outside
            contribute nothing).
        output_mode: `"multi_hot"` (default; `"binary"` is an alias), `"one_hot"` or `"count"`.
        sparse: Only `False` (torch has no sparse output here, as Keras on torch).

    Call arguments:
        inputs: Integer tensor / array / list, rank 0, 1 (one sample for multi_hot/count) or
            more (`(batch, ...)`).
        count_weights: Optional weights (same shape as `inputs`) for `output_mode="count"`.

    Output shape:
        `(..., num_tokens)`: see Keras's `CategoryEncoding`.

    Example:

    >>> layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    >>> layer([3, 2, 0, 1])  # 4x4 identity in row order 3, 2, 0, 1
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        output_mode = check_output_mode("CategoryEncoding", output_mode, ENCODE_MODES)
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not known "
                "beforehand, use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError(
                "`sparse=True` is not supported: torch layers return dense tensors. "
                f"Received: sparse={sparse}"
            )
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        inputs = to_number_tensor(self, inputs)
        if inputs.is_floating_point():
            inputs = inputs.long()
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is not used when `output_mode` is not `'count'`. "
                    f"Received `count_weights={count_weights}`."
                )
            count_weights = torch.as_tensor(count_weights, dtype=torch_dtype(self.compute_dtype))
        return encode_categorical(
            inputs,
            self.output_mode,
            self.num_tokens,
            torch_dtype(self.compute_dtype),
            count_weights,
        )

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return input_shape + (self.num_tokens,)
            return input_shape[:-1] + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config
