"""Keras's overridable steps of MultiHeadAttention, for subclasses that customize attention.

Keras's `MultiHeadAttention.call` computes the attention mask with `_compute_attention_mask`,
projects, then calls `self._compute_attention(query, key, value, attention_mask, training,
return_attention_scores)`, whose explicit path uses `_dot_product_equation`,
`_masked_softmax` (the `_softmax` layer) and `_dropout_layer`. Users subclass it to change
attention (keras-io's Locality Self Attention overrides `_compute_attention`). keraslike's own
call takes faster routes; a subclass overriding any of these steps is called through them, with
Keras's arguments, so its override is never silently skipped.
"""

import torch

from keraslike.layers.activation_layers import Softmax
from keraslike.layers.regularization import Dropout

_HOOKS = ("_compute_attention", "_masked_softmax", "_compute_attention_mask", "_compute_causal_mask")


def overrides_attention_hooks(cls, base):
    """Whether `cls` (a subclass of `base`) overrides one of Keras's attention steps."""
    return any(getattr(cls, name) is not getattr(base, name) for name in _HOOKS)


class AttentionHooks:
    """Mixin of `MultiHeadAttention`: Keras's attention steps (see the module docstring)."""

    def _build_attention_layers(self, scores_rank, softmax_name, dropout_name):
        """Keras's `_softmax` and `_dropout_layer` (weightless; kept out of the module tree, so
        `state_dict()` and the exporters see the layer as before)."""
        norm_axes = tuple(range(scores_rank - self._n_attention_axes, scores_rank))
        policy = self._dtype_policy_name
        object.__setattr__(self, "_softmax", Softmax(axis=norm_axes, dtype=policy, name=softmax_name))
        object.__setattr__(self, "_dropout_layer",
                           Dropout(rate=self._dropout, seed=self.seed, dtype=policy, name=dropout_name))

    @property
    def _dot_product_equation(self):
        """Keras's name of the `(key, query) -> scores` einsum equation."""
        return self._dot_equation

    def _masked_softmax(self, attention_scores, attention_mask=None):
        """Softmax over the key attention axes, masked positions zeroed (Keras's)."""
        if attention_mask is not None:
            # Expand from the heads axis: (<batch dims>, heads, <query axes>, <key axes>).
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(attention_scores.ndim - attention_mask.ndim):
                attention_mask = attention_mask.unsqueeze(axis)
        return self._softmax(attention_scores, mask=attention_mask)

    def _compute_causal_mask(self, query, value=None):
        """The `(1, T, S)` lower-triangular mask of query length T and value length S."""
        value = query if value is None else value
        return self._causal_mask(query.shape[1], value.shape[1], query.device)

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None,
                                key_mask=None, attention_mask=None, use_causal_mask=False):
        """The boolean `(B, T, S)` mask from the padding, causal and explicit masks."""
        return self._attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        """Attention of projected `query (B, T, N, key_dim)`, `key`, `value (B, S, N, dim)`.

        Returns:
            `(attention_output, attention_scores)`; the scores are `None` on the fused path
            (no dropout, no returned scores, rank-4 projections), as in Keras.
        """
        if not (self._dropout > 0.0 or return_attention_scores or query.ndim != 4):
            causal_only = use_causal_mask and attention_mask is None
            mask = None if attention_mask is None else attention_mask.bool()
            return self._fused_attention(query, key, value, mask, causal_only, training), None
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else attention_mask.bool() & causal
        query = query * self._inverse_sqrt_key_dim
        scores = torch.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0.0 else scores
        return torch.einsum(self._combine_equation, dropped, value), scores

    def _call_through_hooks(self, query, value, key, query_mask, value_mask, key_mask,
                            attention_mask, return_attention_scores, training, use_causal_mask):
        """Keras's `call`, step by step, for a subclass overriding one of the steps."""
        attention_mask = self._compute_attention_mask(
            query, value, query_mask=query_mask, value_mask=value_mask, key_mask=key_mask,
            attention_mask=attention_mask, use_causal_mask=use_causal_mask,
        )
        gate = self.gate_dense(query) if self._use_gate else None
        query = self.query_dense(query)
        key = self.key_dense(key)
        value = self.value_dense(value)
        output, scores = self._compute_attention(
            query, key, value, attention_mask, training, return_attention_scores
        )
        if gate is not None:
            output = output * gate
        output = self.output_dense(output)
        if return_attention_scores:
            return output, scores
        return output
