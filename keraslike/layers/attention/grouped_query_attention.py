"""GroupQueryAttention, numerically identical to Keras 3's (class `GroupedQueryAttention`, torch backend).

`num_key_value_heads` key/value heads are shared by groups of `num_query_heads // num_key_value_heads`
query heads. As in Keras, attention without dropout and without returned scores runs through
`F.scaled_dot_product_attention` (a fully masked query row attends uniformly), otherwise through
explicit einsums with a masked softmax (a fully masked row attends to nothing).
"""

import math

import torch
import torch.nn.functional as F

from keraslike import constraints, initializers, regularizers
from keraslike.backend.naming import uniquify
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers.attention.multi_head_attention import _expand_mask, _large_negative
from keraslike.layers.attention.projection import HeadProjection, refuse_quantized_policy
from keraslike.layers.attention.query_value_key import QueryValueKeyCalls
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize


class GroupQueryAttention(QueryValueKeyCalls, Layer):
    """Grouped-query attention ([Ainslie et al., 2023](https://arxiv.org/abs/2305.13245)).

    `num_key_value_heads=1` is multi-query attention; `num_key_value_heads == num_query_heads`
    is multi-head attention. Weights are Keras's: `EinsumDense`-style sublayers `query`
    (kernel `(dim, num_query_heads, head_dim)`), `key` and `value` (kernels
    `(dim, num_key_value_heads, head_dim)`), optional `gate`, and `attention_output` (kernel
    `(num_query_heads, head_dim, dim)`), each stored like `nn.Linear`; `get_weights` /
    `set_weights` use Keras's layouts and order.

    Args:
        head_dim: Size of each attention head.
        num_query_heads: Number of query heads.
        num_key_value_heads: Number of key and value heads; must divide `num_query_heads`.
        dropout: Dropout rate on the attention probabilities.
        use_bias: Whether the projections have biases.
        sliding_window: Optional positive int: each query attends only to keys within
            `sliding_window - 1` positions (a symmetric band; with `use_causal_mask`, causal).
        flash_attention: Accepted for Keras compatibility (`True` refuses dropout and returned
            scores, as Keras); `F.scaled_dot_product_attention` picks the fused kernel.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: For the projections.
        use_gate: Whether to gate the attention output with `sigmoid(gate(query))`.
        seed: Recorded in the config (dropout uses torch's global generator).

    Call arguments:
        query: `(B, T, dim)`.
        value: `(B, S, dim)`.
        key: Optional `(B, S, dim)`; defaults to `value`.
        query_mask, value_mask, key_mask: Optional `(B, T)` / `(B, S)` padding masks; in a
            functional model they come from the inputs' Keras masks.
        attention_mask: Optional boolean `(B, T, S)`; 1 = may attend.
        return_attention_scores: Also return the probabilities `(B, num_query_heads, T, S)`.
        training: Whether dropout is active (default: the module's `training` flag).
        use_causal_mask: Whether each query position attends only to earlier key positions.

    Returns:
        The attention output `(B, T, dim)`, and the scores if `return_attention_scores`.

    Example:

    ```python
    x = keras.Input(shape=(8, 16))
    y = keras.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)(x, x)
    ```
    """

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        # Keras sets `self.activity_regularizer` too: it applies to the output as well as to
        # each projection.
        if type(self) is GroupQueryAttention and kwargs.get("name") is None:
            kwargs["name"] = uniquify("grouped_query_attention")  # Keras's class is GroupedQuery...
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        where = f'Layer "{self.name}" (GroupQueryAttention)'
        for arg, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                           ("num_key_value_heads", num_key_value_heads)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"{where}: `{arg}` must be a positive integer. Received: {arg}={value!r}"
                )
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                f"{where}: `num_query_heads` must be divisible by `num_key_value_heads`. "
                f"Received: num_query_heads={num_query_heads}, "
                f"num_key_value_heads={num_key_value_heads}"
            )
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or isinstance(sliding_window, bool)
            or sliding_window <= 0
        ):
            raise ValueError(
                f"{where}: `sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window!r}"
            )
        if flash_attention and dropout > 0.0:
            raise ValueError(
                f"{where}: dropout is not supported when flash attention is enabled. "
                "Please set dropout to 0.0 to use flash attention."
            )
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._gqa_activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))

    # Keras's private names for the sublayers (some user code reaches for them).
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    def _projection(self, in_shape, out_shape, name, activation=None):
        def clone(initializer):
            return type(initializer).from_config(initializer.get_config())

        return HeadProjection(
            in_shape, out_shape, use_bias=self.use_bias,
            kernel_initializer=clone(self.kernel_initializer),
            bias_initializer=clone(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
            activation=activation, activity_regularizer=self._gqa_activity_regularizer,
            dtype=self._dtype_policy_name, name=name,
        )

    def build(self, query_shape, value_shape, key_shape=None):
        """Creates the projections for inputs of these shapes (batch dimension included)."""
        key_shape = value_shape if key_shape is None else key_shape
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f'Layer "{self.name}" (GroupQueryAttention): `{arg}` must have shape '
                    f"(batch, seq_len, features) with known features. "
                    f"Received: {arg}_shape={tuple(shape)}"
                )
        self.feature_dim = query_shape[-1]
        heads, kv_heads, dim = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.query_dense = self._projection((query_shape[-1],), (heads, dim), "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection((key_shape[-1],), (kv_heads, dim), "key")
        self.key_dense.build(key_shape)
        if self.use_gate:
            self.gate_dense = self._projection((query_shape[-1],), (heads, dim), "gate",
                                               activation=torch.sigmoid)
            self.gate_dense.build(query_shape)
        self.value_dense = self._projection((value_shape[-1],), (kv_heads, dim), "value")
        self.value_dense.build(value_shape)
        # Keras builds internal Softmax and Dropout layers here, which take those default names;
        # reserve them so the layers a user creates next are named as in Keras.
        uniquify("softmax")
        uniquify("dropout")
        self.output_dense = self._projection((heads, dim), (self.feature_dim,), "attention_output")
        self.output_dense.build((None, None, heads, dim))
        self.built = True

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):
        """The boolean `(B|1, T, S)` mask from padding, causal and sliding-window masks."""
        mask = None
        if query_mask is not None:
            mask = query_mask.bool().unsqueeze(-1)  # (B, T, 1)
        for padding in (value_mask, key_mask):
            if padding is not None:
                padding = padding.bool().unsqueeze(-2)  # (B, 1, S)
                mask = padding if mask is None else mask & padding
        rows = torch.arange(query.shape[1], device=query.device).view(1, -1, 1)
        cols = torch.arange(value.shape[1], device=query.device).view(1, 1, -1)
        if use_causal_mask:
            mask = rows >= cols if mask is None else mask & (rows >= cols)
        if self.sliding_window is not None:
            band = (rows - cols).abs() < self.sliding_window
            mask = band if mask is None else mask & band
        if attention_mask is not None and mask is not None:
            mask = attention_mask.bool() & mask
        elif attention_mask is not None:
            mask = attention_mask
        return mask

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        if key is None:
            key = value
        refuse_quantized_policy(self, "GroupedQueryAttention")
        if training is None:
            training = self.training
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                f'Layer "{self.name}": returning attention scores is not supported when flash '
                "attention is enabled. Please disable flash attention to access attention scores."
            )
        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and self.sliding_window is None)
        mask = None
        if not causal_only:
            mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                        attention_mask, use_causal_mask)
        gate = self.gate_dense(query) if self.use_gate else None
        query = self.query_dense(query)  # (B, T, heads, dim)
        key = self.key_dense(key).repeat_interleave(self.num_repeats, dim=2)  # (B, S, heads, dim)
        value = self.value_dense(value).repeat_interleave(self.num_repeats, dim=2)
        scores = None
        if self.dropout > 0.0 or return_attention_scores:
            output, scores = self._explicit_attention(query, key, value, mask, causal_only,
                                                      training)
        else:
            output = self._fused_attention(query, key, value, mask, causal_only)
        if gate is not None:
            output = output * gate
        output = self.output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _fused_attention(self, query, key, value, mask, causal_only):
        q, k, v = query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2)
        bias = None
        if mask is not None:
            mask = _expand_mask(mask.bool(), 4, -3)
            bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill_(
                ~mask, _large_negative(q.dtype))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, is_causal=causal_only,
                                             scale=self._inverse_sqrt_head_dim)
        return out.transpose(1, 2)

    def _explicit_attention(self, query, key, value, mask, causal_only, training):
        """Keras's einsum path: returns `(output (B, T, heads, dim), probabilities)`."""
        if causal_only:
            t, s = query.shape[1], key.shape[1]
            mask = torch.ones((1, t, s), dtype=torch.bool, device=query.device).tril()
        query = query * self._inverse_sqrt_head_dim
        scores = torch.einsum("bquh,bkuh->buqk", query, key)
        if mask is not None:
            mask = _expand_mask(mask.bool(), 4, -3)
            fill = -3e4 if scores.dtype == torch.float16 else -1e9
            scores = torch.where(mask, scores, fill)
        probs = torch.softmax(scores, dim=-1)
        if mask is not None:
            probs = torch.where(mask, probs, 0.0)
        dropped = F.dropout(probs, self.dropout, training=True) if (
            self.dropout > 0.0 and training) else probs
        return torch.einsum("buqk,bkuh->bquh", dropped, value), probs

    # ------------------------------------------------------------------ symbolic use

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        """Returns the query's shape (after Keras's checks of the three shapes)."""
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                "The last dimension of `query_shape` and `value_shape` must be equal, but are "
                f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={query_shape}, "
                f"value_shape={value_shape}"
            )
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        return query_shape

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False,
                            **kwargs):
        key_shape = key.shape if key is not None else None
        output = KerasTensor(self.compute_output_shape(query.shape, value.shape, key_shape),
                             dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        kv_len = value.shape[1] if key is None else key.shape[1]
        scores = KerasTensor((query.shape[0], self.num_query_heads, query.shape[1], kv_len),
                             dtype=self.compute_dtype)
        return output, scores

    def get_config(self):
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
            "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
            "activity_regularizer": _serialize(regularizers, self._gqa_activity_regularizer),
            "kernel_constraint": _serialize(constraints, self.kernel_constraint),
            "bias_constraint": _serialize(constraints, self.bias_constraint),
            "seed": self.seed,
        })
        return config

