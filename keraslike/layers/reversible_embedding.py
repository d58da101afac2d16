"""`keras.layers.ReversibleEmbedding`: an embedding that also projects hidden states back to
vocabulary logits (tied or separate weights)."""

import torch

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.core import Embedding


class ReversibleEmbedding(Embedding):
    """An embedding layer which can project backwards to the input dim.

    Called as usual it looks up embeddings; called with `reverse=True` on hidden states
    `(..., output_dim)` it returns logits `(..., input_dim)`: a matmul with the transposed
    `embeddings` (`tie_weights=True`) or with a separate trainable `reverse_embeddings`
    `(output_dim, input_dim)`. No bias.

    Args:
        input_dim: Integer, the vocabulary size.
        output_dim: Integer, the embedding size.
        tie_weights: Boolean, whether the reverse projection uses the transposed embeddings.
            Defaults to `True`.
        embeddings_initializer: Initializer of the embeddings (and of `reverse_embeddings`).
            Defaults to `"uniform"`.
        embeddings_regularizer: Regularizer of the embeddings.
        embeddings_constraint: Constraint of the embeddings.
        mask_zero: Boolean, whether index 0 is padding to mask (forward calls only).
        reverse_dtype: The dtype of the reverse projection; defaults to the compute dtype.
        logit_soft_cap: If set, reverse logits become `tanh(logits / cap) * cap`.
        **kwargs: Other `Embedding` arguments (`name`, `dtype`, `trainable`, `lora_rank`...).

    Call arguments:
        inputs: Integer indices, or hidden states when `reverse=True`.
        reverse: Boolean. Defaults to `False`.

    Example:

    ```python
    embedding = keras.layers.ReversibleEmbedding(100, 32)
    hidden_states = embedding(token_ids)                 # (batch, seq, 32)
    logits = embedding(hidden_states, reverse=True)      # (batch, seq, 100)
    ```
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        reverse_dtype=None,
        logit_soft_cap=None,
        **kwargs,
    ):
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        if self.quantization_mode is not None:
            raise NotImplementedError(
                f'ReversibleEmbedding with a quantized dtype policy ("{self.dtype_policy.name}", '
                f'layer "{self.name}") is not implemented in keraslike.'
            )
        super().build(input_shape)
        if not self.tie_weights:
            self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = self.embeddings.t() if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            dtype = torch_dtype(self.reverse_dtype)
            inputs, kernel = inputs.to(dtype), kernel.to(dtype)
        logits = torch.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, previous_mask=None):
        # Index inputs (a forward call) carry Keras's padding mask; hidden states do not.
        if getattr(inputs, "dtype", None) in ("int32", "int64", torch.int32, torch.int64):
            return super().compute_mask(inputs, previous_mask)
        return None

    def compute_output_shape(self, input_shape, reverse=False):
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)

    def compute_output_spec(self, inputs, reverse=False):
        shape = self.compute_output_shape(inputs.shape, reverse=reverse)
        dtype = self.reverse_dtype if reverse and self.reverse_dtype else self.compute_dtype
        return KerasTensor(shape, dtype=dtype)

    def quantize(self, mode=None, type_check=True, config=None):
        """Not implemented in keraslike for this layer (Keras quantizes both projections)."""
        raise NotImplementedError(
            f'Quantizing ReversibleEmbedding (layer "{self.name}") is not implemented in '
            "keraslike."
        )

    def get_config(self):
        config = super().get_config()
        config.update({
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        })
        return config
