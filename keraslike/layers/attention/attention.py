"""Attention (Luong-style dot-product) and AdditiveAttention (Bahdanau-style), as in Keras 3."""

import numbers

import torch
import torch.nn.functional as F

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers.layer import Layer
from keraslike.random.seed_generator import SeedGenerator, hold_unsaved


class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention (Keras 3's `Attention`).

    Computes `scores = query @ key^T` (`score_mode="dot"`, times a learned scalar `scale` when
    `use_scale`) or `scores = concat_score_weight * sum(tanh(scale * (query + key)), -1)`
    (`score_mode="concat"`), masks them, takes `softmax` over the keys and returns
    `softmax(scores) @ value`.

    Args:
        use_scale: Whether to learn a scalar `scale` for the scores.
        score_mode: `"dot"` or `"concat"`.
        dropout: Dropout rate on the attention probabilities (in training only).
        seed: Recorded in the config (dropout uses torch's global generator).

    Call arguments:
        inputs: List `[query, value]` or `[query, value, key]`, shapes `(B, Tq, dim)`,
            `(B, Tv, dim_v)` and `(B, Tv, dim)`; `key` defaults to `value`.
        mask: Optional list `[query_mask, value_mask]` of booleans `(B, Tq)`, `(B, Tv)`;
            padded query positions give zero outputs, padded values get no attention.
        training: Whether dropout is active (default: the module's `training` flag).
        return_attention_scores: Also return the attention probabilities `(B, Tq, Tv)`.
        use_causal_mask: Whether query position `i` attends only to value positions `<= i`.

    Output shape:
        `(B, Tq, dim_v)` (and `(B, Tq, Tv)` scores when asked for).
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f'Layer "{self.name}": invalid value for argument score_mode. '
                f"Expected one of {{'dot', 'concat'}}. Received: score_mode={score_mode!r}"
            )
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(
                f'Layer "{self.name}": `dropout` must be a float in [0, 1]. '
                f"Received: dropout={dropout!r}"
            )
        if dropout > 0:
            # Keras's generator (its seed drawn from Python's `random` when unseeded), listed
            # in `variables` as Keras's; dropout draws from torch's global generator, so it is
            # kept out of the module tree and nothing is saved.
            hold_unsaved(self, "seed_generator", SeedGenerator(seed))
        self.supports_masking = True

    # ------------------------------------------------------------------ validation

    def _validate_inputs(self, inputs, mask=None):
        class_name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or any(
            x is None or isinstance(x, int) for x in inputs
        ):
            raise ValueError(
                f'{class_name} layer "{self.name}" must be called on a list of inputs, namely '
                f"[query, value] or [query, value, key]. Received: inputs={inputs}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f'{class_name} layer "{self.name}" accepts inputs list of length 2 or 3, namely '
                f"[query, value] or [query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(
                    f'{class_name} layer "{self.name}" mask must be a list, namely '
                    f"[query_mask, value_mask]. Received: mask={mask}."
                )
            if not 2 <= len(mask) <= 3:
                raise ValueError(
                    f'{class_name} layer "{self.name}" accepts mask list of length 2 or 3. '
                    f"Received: mask={mask}."
                )

    def _check_shapes(self, shapes):
        query_shape, value_shape = tuple(shapes[0]), tuple(shapes[1])
        key_shape = tuple(shapes[2]) if len(shapes) > 2 else value_shape
        where = f'{type(self).__name__} layer "{self.name}"'
        if query_shape[-1] is not None and key_shape[-1] is not None:
            if query_shape[-1] != key_shape[-1]:
                raise ValueError(
                    f"{where}: the last dimension of the query ({query_shape[-1]}) must equal "
                    f"that of the key ({key_shape[-1]}; the key defaults to the value). "
                    f"Received: query_shape={query_shape}, key_shape={key_shape}"
                )
        if key_shape[-2:-1] != value_shape[-2:-1] and None not in (key_shape[-2], value_shape[-2]):
            raise ValueError(
                f"{where}: key and value must have the same number of timesteps. "
                f"Received: value_shape={value_shape}, key_shape={key_shape}"
            )

    # ------------------------------------------------------------------ building

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self._check_shapes(input_shape)
        if self.use_scale:
            self.add_weight(shape=(), initializer="ones", name="scale")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.add_weight(shape=(), initializer="ones", name="concat_score_weight")
        else:
            self.concat_score_weight = None
        self.built = True

    # ------------------------------------------------------------------ computation

    def _calculate_scores(self, query, key):
        """Scores `(B, Tq, Tv)` of each query against each key."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            if self.scale is not None:
                scores = scores * self.scale
            return scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    @staticmethod
    def _score_mask(v_mask, use_causal_mask, q_len, v_len, device):
        """The boolean mask of allowed (query, value) pairs, or `None`."""
        if v_mask is not None:
            v_mask = v_mask.bool()
            v_mask = v_mask.unsqueeze(-2) if (use_causal_mask or v_mask.ndim == 2) else v_mask
        if not use_causal_mask:
            return v_mask
        causal = torch.ones((1, q_len, v_len), dtype=torch.bool, device=device).tril()
        return causal if v_mask is None else v_mask & causal

    def _fused(self, query, key, value, score_mask, causal_only, training):
        """`score_mode="dot"` without returned scores: `F.scaled_dot_product_attention`."""
        if self.scale is not None:
            query = query * self.scale
        dropout_p = self.dropout if training else 0.0
        if score_mask is None or causal_only:
            return F.scaled_dot_product_attention(
                query, key, value, dropout_p=dropout_p, is_causal=causal_only, scale=1.0
            )
        # Keras subtracts 1e9 (65504 in float16) from masked scores: an additive bias.
        big = 65504.0 if query.dtype == torch.float16 else 1.0e9
        bias = torch.zeros(score_mask.shape, dtype=query.dtype, device=query.device)
        bias.masked_fill_(~score_mask, -big)
        return F.scaled_dot_product_attention(
            query, key, value, attn_mask=bias, dropout_p=dropout_p, scale=1.0
        )

    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        self._validate_inputs(inputs, mask)
        if training is None:
            training = self.training
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        score_mask = self._score_mask(
            v_mask, use_causal_mask, query.shape[-2], key.shape[-2], query.device
        )
        fusable = self.score_mode == "dot" and type(self)._calculate_scores is Attention._calculate_scores
        if fusable and not return_attention_scores:
            causal_only = use_causal_mask and v_mask is None
            output = self._fused(query, key, value, score_mask, causal_only, training)
            weights = None
        else:
            scores = self._calculate_scores(query, key)
            if score_mask is not None:
                big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
                scores = torch.where(score_mask, scores, scores - big)
            weights = torch.softmax(scores, dim=-1)
            dropped = weights
            if training and self.dropout > 0:
                dropped = F.dropout(weights, self.dropout, training=True)
            output = torch.matmul(dropped, value)
        if q_mask is not None:
            output = torch.where(q_mask.bool().unsqueeze(-1), output, 0.0)
        if return_attention_scores:
            return output, weights
        return output

    # ------------------------------------------------------------------ symbolic use

    def compute_mask(self, inputs, previous_mask=None):
        self._validate_inputs(inputs, previous_mask)
        if previous_mask is None or previous_mask[0] is None:
            return None
        return previous_mask[0]

    def _set_output_masks(self, inputs, previous_mask, outputs):
        # Only the attention output carries the query's mask (not the scores), as in Keras.
        mask = self.compute_mask(inputs, previous_mask)
        first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
        if mask is not None and isinstance(first, KerasTensor):
            first._keras_mask = mask

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = input_shape[0], input_shape[1]
        return (*query_shape[:-1], value_shape[-1])

    def compute_output_spec(
        self, inputs, mask=None, return_attention_scores=False, training=None, use_causal_mask=False
    ):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        output = KerasTensor(
            self.compute_output_shape([query.shape, value.shape]), dtype=self.compute_dtype
        )
        if return_attention_scores:
            scores = KerasTensor((*query.shape[:-1], key.shape[-2]), dtype=self.compute_dtype)
            return output, scores
        return output

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "use_scale": self.use_scale,
                "score_mode": self.score_mode,
                "dropout": self.dropout,
                "seed": self.seed,
            }
        )
        return config


class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention (Keras 3's `AdditiveAttention`).

    `scores = sum(scale * tanh(query + key), -1)` with a learned `scale` of shape `(dim,)`
    (`use_scale=True`, Glorot-uniform initialized) or without it; then as `Attention`.

    Args:
        use_scale: Whether to learn the per-feature `scale`.
        dropout: Dropout rate on the attention probabilities (in training only).

    Call arguments and shapes: as `Attention`.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self._check_shapes(input_shape)
        dim = input_shape[0][-1]
        if self.use_scale:
            self.add_weight(shape=(dim,), initializer="glorot_uniform", name="scale")
        else:
            self.scale = None
        self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key):
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))  # (B, Tq, Tv, dim)
        if self.scale is not None:
            summed = self.scale * summed
        return summed.sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
