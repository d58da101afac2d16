"""MultiHeadAttention, numerically identical to Keras 3's (torch backend).

Keras computes attention in two ways, and they differ only for query rows whose keys are all
masked out:

* its fused path (`dropout == 0`, no returned scores, rank-3 inputs) calls
  `F.scaled_dot_product_attention` with an additive mask of `-0.7 * float32.max`: a fully
  masked row attends uniformly to every key;
* its explicit path (otherwise) takes a masked softmax that zeroes masked positions: a fully
  masked row attends to nothing (its attention output is zero).

We follow the same rule. Rank-3 inputs without returned scores always run through
`F.scaled_dot_product_attention` (also with dropout, where Keras takes its slower explicit path;
fully masked rows are then zeroed to match it). Other cases run explicit einsums built once in
`build`, like Keras's, so `attention_axes` and returned scores have Keras's layouts.
"""

import numbers
import string

import torch
import torch.nn.functional as F

from keraslike import constraints, initializers, regularizers
from keraslike.backend.naming import uniquify
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers.attention.attention_hooks import AttentionHooks, overrides_attention_hooks
from keraslike.layers.attention.projection import HeadProjection, refuse_quantized_policy
from keraslike.layers.attention.query_value_key import QueryValueKeyCalls
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize


def _attention_equations(rank, attn_axes):
    """Einsum equations of the explicit path (Keras's layouts).

    Projected tensors are `(batch, <other dims>, <attention dims>, heads, channels)`; every axis
    but the attention axes and the channels is a batch axis of the product (heads included).

    Returns:
        `(dot_equation, combine_equation, scores_rank)`: `dot_equation` takes `(key, query)` to
        scores `(<batch axes>, <query attention axes>, <key attention axes>)` and
        `combine_equation` takes `(scores, value)` back to the query's layout.
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_axes = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, next_letter = "", rank
    for i in range(rank):
        if i in batch_axes or i == rank - 1:
            source += target[i]
        else:
            source += letters[next_letter]
            next_letter += 1
    product = (
        "".join(target[i] for i in batch_axes)
        + "".join(target[i] for i in attn_axes)
        + "".join(source[i] for i in attn_axes)
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _large_negative(dtype):
    """The additive mask value of Keras's fused path (`-0.7 * finfo.max`, float16: 65500)."""
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


def _expand_mask(mask, rank, axis):
    while mask.ndim < rank:
        mask = mask.unsqueeze(axis)
    return mask


class MultiHeadAttention(AttentionHooks, QueryValueKeyCalls, Layer):
    """Multi-head attention ("Attention is all you need"), Keras 3's `MultiHeadAttention`.

    Projects `query`, `key` and `value` into `num_heads` heads, takes scaled dot-product
    attention per head and projects the concatenated heads back. Weights are Keras's: four
    `EinsumDense`-style sublayers `query`, `key`, `value` (kernels `(dim, num_heads, key_dim)`,
    `(dim, num_heads, value_dim)`, biases `(num_heads, head_dim)`) and `attention_output`
    (kernel `(num_heads, value_dim, *output_shape)`), stored like `nn.Linear` (`weight`,
    `bias`); `get_weights`/`set_weights` use Keras's layouts and order.

    Args:
        num_heads: Number of attention heads.
        key_dim: Size of each head for query and key.
        value_dim: Size of each head for value (default: `key_dim`).
        dropout: Dropout rate on the attention probabilities.
        use_bias: Whether the projections have biases.
        output_shape: Trailing output shape (int or tuple); default: the query's last dim.
        attention_axes: Axes attention is applied over (default: all but batch, heads, features).
        sliding_window: Optional positive int: each query attends only to keys within
            `sliding_window - 1` positions.
        flash_attention: Accepted for Keras compatibility (`True` refuses dropout and returned
            scores, as in Keras); the fused kernel is chosen by
            `F.scaled_dot_product_attention`.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: For the projections.
        use_gate: Whether to gate the attention output with `sigmoid(gate(query))`.
        seed: Recorded in the config (dropout uses torch's global generator).

    Call arguments:
        query: `(B, T, dim)` (or higher rank with `attention_axes`).
        value: `(B, S, dim)`.
        key: Optional `(B, S, dim)`; defaults to `value`.
        query_mask, value_mask, key_mask: Optional `(B, T)` / `(B, S)` padding masks; in a
            functional model they come from the inputs' Keras masks.
        attention_mask: Optional boolean `(B, T, S)`; 1 = may attend.
        return_attention_scores: Also return the attention probabilities `(B, heads, T, S)`.
        training: Whether dropout is active (default: the module's `training` flag).
        use_causal_mask: Whether each query position attends only to earlier key positions.

    Example:

    ```python
    x = keras.Input(shape=(8, 16))
    y = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)  # (None, 8, 16)
    ```
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
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
        super().__init__(**kwargs)
        where = f'Layer "{self.name}" (MultiHeadAttention)'

        def positive_int(value):
            return isinstance(value, int) and not isinstance(value, bool) and value > 0

        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not positive_int(value):
                raise ValueError(
                    f"{where}: received an invalid value for argument `{arg}`, expected a "
                    f"positive integer. Received: {arg}={value!r}"
                )
        if value_dim is not None and not positive_int(value_dim):
            raise ValueError(
                f"{where}: received an invalid value for argument `value_dim`, expected a "
                f"positive integer or `None`. Received: value_dim={value_dim!r}"
            )
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{where}: `dropout` must be a float in [0, 1]. Received: dropout={dropout!r}"
            )
        if sliding_window is not None and not positive_int(sliding_window):
            raise ValueError(
                f"{where}: `sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window!r}"
            )
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"{where}: invalid `output_shape`: {output_shape!r}. It should be an int, "
                    "a tuple or a list."
                ) from None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"{where}: `attention_axes` must be an int, list, or tuple. "
                f"Received: attention_axes={attention_axes!r}"
            )
        if flash_attention and dropout > 0.0:
            raise ValueError(
                f"{where}: dropout is not supported when flash attention is enabled. "
                "Please set dropout to 0.0 to use flash attention."
            )
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        self._output_shape = output_shape
        self._attention_axes = attention_axes
        self._sliding_window = sliding_window
        self._flash_attention = flash_attention
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / float(key_dim) ** 0.5

    # Whether the class overrides one of Keras's attention steps (`_compute_attention`, ...):
    # its calls then go through them (see `attention_hooks`). A fact of the class.
    _keras_attention_hooks = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._keras_attention_hooks = overrides_attention_hooks(cls, MultiHeadAttention)

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    # Keras's private names for the sublayers (some user code reaches for them).
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    # ------------------------------------------------------------------ building

    def _projection(self, in_shape, out_shape, name, activation=None):
        def clone(initializer):
            return type(initializer).from_config(initializer.get_config())

        return HeadProjection(
            in_shape,
            out_shape,
            use_bias=self._use_bias,
            kernel_initializer=clone(self._kernel_initializer),
            bias_initializer=clone(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            activation=activation,
            activity_regularizer=self._activity_regularizer,
            dtype=self._dtype_policy_name,
            name=name,
        )

    def _check_shapes(self, query_shape, value_shape, key_shape):
        where = f'Layer "{self.name}" (MultiHeadAttention)'
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"{where}: all dimensions of `value` and `key`, except the last one, must be "
                f"equal. Received: value_shape={tuple(value_shape)} and "
                f"key_shape={tuple(key_shape)}"
            )
        if len(query_shape) != len(value_shape):
            raise ValueError(
                f"{where}: `query` and `value` must have the same rank. Received: "
                f"query_shape={tuple(query_shape)} and value_shape={tuple(value_shape)}"
            )
        if len(query_shape) < 3:
            raise ValueError(
                f"{where}: inputs must have rank >= 3 `(batch, ..., features)`. "
                f"Received: query_shape={tuple(query_shape)}"
            )
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(
                    f"{where}: the last dimension of `{arg}` must be defined. "
                    f"Received: {arg}_shape={tuple(shape)}"
                )

    def build(self, query_shape, value_shape, key_shape=None):
        """Creates the projections for inputs of these shapes (batch dimension included)."""
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(query_shape, value_shape, key_shape)
        # Keras's MHA builds internal Softmax and Dropout layers here, which take those default
        # names (so the layers a user creates next are named as in Keras).
        softmax_name, dropout_name = uniquify("softmax"), uniquify("dropout")
        heads = self._num_heads
        self.query_dense = self._projection((query_shape[-1],), (heads, self._key_dim), "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection((key_shape[-1],), (heads, self._key_dim), "key")
        self.key_dense.build(key_shape)
        if self._use_gate:
            self.gate_dense = self._projection(
                (query_shape[-1],), (heads, self._value_dim), "gate", activation=torch.sigmoid
            )
            self.gate_dense.build(query_shape)
        self.value_dense = self._projection((value_shape[-1],), (heads, self._value_dim), "value")
        self.value_dense.build(value_shape)

        rank = len(query_shape) + 1  # rank of the projected tensors
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(
                axis if axis >= 0 else (rank - 1) + axis for axis in self._attention_axes
            )
        self._dot_equation, self._combine_equation, scores_rank = _attention_equations(
            rank, self._attention_axes
        )
        self._n_attention_axes = len(self._attention_axes)
        self._build_attention_layers(scores_rank, softmax_name, dropout_name)
        out_shape = tuple(self._output_shape) if self._output_shape else (query_shape[-1],)
        self.output_dense = self._projection(
            (heads, self._value_dim), out_shape, "attention_output"
        )
        self.output_dense.build(tuple(query_shape[:-1]) + (heads, self._value_dim))
        self.built = True

    # ------------------------------------------------------------------ masks

    def _attention_mask(
        self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
    ):
        """The boolean mask from the padding masks, the causal and sliding-window masks."""
        mask = None
        if query_mask is not None:
            mask = query_mask.bool().unsqueeze(-1)  # (B, T, 1)
        for padding in (value_mask, key_mask):
            if padding is not None:
                padding = padding.bool().unsqueeze(-2)  # (B, 1, S)
                mask = padding if mask is None else mask & padding
        if use_causal_mask:
            causal = self._causal_mask(query.shape[1], value.shape[1], query.device)
            mask = causal if mask is None else mask & causal
        if self._sliding_window is not None:
            rows = torch.arange(query.shape[1], device=query.device).view(1, -1, 1)
            cols = torch.arange(value.shape[1], device=query.device).view(1, 1, -1)
            band = (rows - cols).abs() < self._sliding_window
            mask = band if mask is None else mask & band
        if attention_mask is not None:
            attention_mask = attention_mask.bool()
            mask = attention_mask if mask is None else attention_mask & mask
        return mask

    @staticmethod
    def _causal_mask(q_len, v_len, device):
        return torch.ones((1, q_len, v_len), dtype=torch.bool, device=device).tril()

    # ------------------------------------------------------------------ computation

    def _fused_attention(self, query, key, value, mask, causal_only, training):
        """Rank-4 projections through `F.scaled_dot_product_attention` -> `(B, T, heads, Dv)`."""
        q, k, v = query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2)
        dropout_p = self._dropout if training else 0.0
        if mask is None:
            out = F.scaled_dot_product_attention(
                q, k, v, dropout_p=dropout_p, is_causal=causal_only, scale=self._inverse_sqrt_key_dim
            )
        else:
            mask = _expand_mask(mask, 4, -2 * self._n_attention_axes - 1)
            bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill_(
                ~mask, _large_negative(q.dtype)
            )
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, dropout_p=dropout_p, scale=self._inverse_sqrt_key_dim
            )
            if self._dropout > 0.0:
                # Keras takes its explicit path here, where a fully masked row attends to nothing.
                out = out * mask.any(-1, keepdim=True).to(out.dtype)
        return out.transpose(1, 2)

    def _explicit_attention(self, query, key, value, mask, causal_only, training):
        """Keras's einsum path: returns `(output in query layout, attention probabilities)`."""
        if causal_only:
            mask = self._causal_mask(query.shape[1], value.shape[1], query.device)
        query = query * self._inverse_sqrt_key_dim
        scores = torch.einsum(self._dot_equation, key, query)
        if mask is not None:
            mask = _expand_mask(mask, scores.ndim, -2 * self._n_attention_axes - 1)
            fill = -3e4 if scores.dtype == torch.float16 else -1e9
            scores = torch.where(mask, scores, fill)
        n = self._n_attention_axes
        if n == 1:
            probs = torch.softmax(scores, dim=-1)
        else:
            # Keras's softmax over several axes, elementwise on the einsum's result: the
            # probabilities keep its memory layout (a size-1 attention axis makes it a permuted
            # view), and so does the dropout mask `F.dropout` draws for them, element for element.
            axes = tuple(range(scores.ndim - n, scores.ndim))
            probs = torch.exp(scores - torch.logsumexp(scores, dim=axes, keepdim=True))
        if mask is not None:
            probs = torch.where(mask, probs, 0.0)
        dropped = probs
        if self._dropout > 0.0 and training:
            dropped = F.dropout(probs, self._dropout, training=True)
        return torch.einsum(self._combine_equation, dropped, value), probs

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        if key is None:
            key = value
        refuse_quantized_policy(self, "MultiHeadAttention")
        if training is None:
            training = self.training
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                f'Layer "{self.name}": returning attention scores is not supported when flash '
                "attention is enabled. Please disable flash attention to access attention scores."
            )
        if self._keras_attention_hooks:
            return self._call_through_hooks(query, value, key, query_mask, value_mask, key_mask,
                                            attention_mask, return_attention_scores, training,
                                            use_causal_mask)
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self._sliding_window is None
        )
        mask = None
        if not causal_only:
            mask = self._attention_mask(
                query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
            )
        gate = self.gate_dense(query) if self._use_gate else None
        query = self.query_dense(query)
        key = self.key_dense(key)
        value = self.value_dense(value)
        if query.ndim == 4 and not return_attention_scores:
            output = self._fused_attention(query, key, value, mask, causal_only, training)
            scores = None
        else:
            output, scores = self._explicit_attention(
                query, key, value, mask, causal_only, training
            )
        if gate is not None:
            output = output * gate
        output = self.output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    # ------------------------------------------------------------------ symbolic use

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        """Returns the output shape: the query's, with `output_shape` replacing its last dim."""
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f'Layer "{self.name}" (MultiHeadAttention): all dimensions of `value` and `key`, '
                f"except the last one, must be equal. Received: value_shape={value_shape} and "
                f"key_shape={key_shape}"
            )
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def _scores_shape(self, query_shape, key_shape):
        rank = len(query_shape) + 1
        q = tuple(query_shape[:-1]) + (self._num_heads, self._key_dim)
        k = tuple(key_shape[:-1]) + (self._num_heads, self._key_dim)
        axes = self._attention_axes
        batch_axes = [i for i in range(rank) if i not in axes and i != rank - 1]
        return tuple(q[i] for i in batch_axes) + tuple(q[i] for i in axes) + tuple(k[i] for i in axes)

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        key_shape = key.shape if key is not None else value.shape
        shape = self.compute_output_shape(query.shape, value.shape, key_shape)
        output = KerasTensor(shape, dtype=self.compute_dtype)
        if return_attention_scores:
            scores = KerasTensor(self._scores_shape(query.shape, key_shape), dtype=self.compute_dtype)
            return output, scores
        return output

    # ------------------------------------------------------------------ config

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update(
            {
                "num_heads": self._num_heads,
                "key_dim": self._key_dim,
                "value_dim": self._value_dim,
                "dropout": self._dropout,
                "use_bias": self._use_bias,
                "use_gate": self._use_gate,
                "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": initializers.serialize(self._kernel_initializer),
                "bias_initializer": initializers.serialize(self._bias_initializer),
                "kernel_regularizer": _serialize(regularizers, self._kernel_regularizer),
                "bias_regularizer": _serialize(regularizers, self._bias_regularizer),
                "activity_regularizer": _serialize(regularizers, self._activity_regularizer),
                "kernel_constraint": _serialize(constraints, self._kernel_constraint),
                "bias_constraint": _serialize(constraints, self._bias_constraint),
                "seed": self.seed,
            }
        )
        return config
