"""`keras.layers.ReversibleEmbedding`: an embedding that also projects hidden states back to
vocabulary logits (tied or separate weights).

Quantized (`quantize("int8"/"int4")` or a dtype policy such as `"int8_from_float32"`), as in
Keras 3: the table is stored as Embedding's (see `quantized_embedding.py`); an untied
`reverse_embeddings` `(output_dim, input_dim)` gets its own scale per vocabulary column:
int8 `reverse_embeddings_scale` `(input_dim,)`; int4 packed two per byte along `output_dim`,
`(ceil(output_dim / 2), input_dim)`, per column (`(input_dim,)` scale) or in groups of
`block_size` rows with `reverse_embeddings_scale` and a float `reverse_embeddings_zero`
`(groups, input_dim)`. The reverse call quantizes its inputs per row with `inputs_quantizer`
(the config's activation quantizer; `AbsMaxQuantizer(axis=-1)` without a config) and runs
`q_x @ q_w / (x_scale * w_scale)`, the int8 matmul on `torch._int_mm`; grouped int4
dequantizes the table first, as Keras does.
"""

import torch

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.core import Embedding
from keraslike.quantizers import quantizers as q
from keraslike.quantizers.kernels import int_matmul
from keraslike.quantizers.quantization_config import QuantizationConfig

_REVERSE_NAMES = ("reverse_embeddings", "reverse_embeddings_scale", "reverse_embeddings_zero")


def quantize_reverse_table(table, mode, config=None, block_size=None):
    """Quantizes a float `(output_dim, input_dim)` reverse table: Keras-layout tensors by name."""
    if mode == "int8":
        quantizer = QuantizationConfig.weight_quantizer_or_default(config, q.AbsMaxQuantizer(axis=0))
        values, scale = quantizer(table, to_numpy=True)
        return {"reverse_embeddings": values, "reverse_embeddings_scale": _squeeze0(scale)}
    if block_size is None:
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, q.AbsMaxQuantizer(axis=0, value_range=(-8, 7), output_dtype="int8")
        )
        values, scale = quantizer(table, to_numpy=True)
        return {
            "reverse_embeddings": q.pack_int4(values, axis=0)[0],
            "reverse_embeddings_scale": _squeeze0(scale),
        }
    values, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
        table, block_size=block_size, to_numpy=True
    )
    return {
        "reverse_embeddings": q.pack_int4(values, axis=0)[0],
        "reverse_embeddings_scale": scale,
        "reverse_embeddings_zero": zero,
    }


class _ReverseInt8Matmul(torch.autograd.Function):
    """`x @ weight.T / (x_scale * scale)` for int8 `weight (input_dim, output_dim)`, as Keras
    computes it: inputs quantized per row (int8 x int8 -> int32 on `torch._int_mm`) or, without
    a quantizer, float inputs times the int values; the product is cast to the inputs' dtype
    before the division. Gradients reach `x` through the dequantized kernel (straight through
    the rounding, as Keras's quantized Dense; Keras's reverse projection has no such rule).
    """

    @staticmethod
    def forward(x, weight, scale, inputs_quantizer):
        if inputs_quantizer is None:
            return torch.matmul(x, weight.t().to(x.dtype)) / scale
        x_q, x_scale = inputs_quantizer(x, axis=-1)
        flat = int_matmul(x_q.reshape(-1, x_q.shape[-1]), weight.t())
        logits = flat.reshape(x.shape[:-1] + (weight.shape[0],)).to(x.dtype)
        return logits / (x_scale * scale)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[1], inputs[2])
        ctx.x_dtype = inputs[0].dtype

    @staticmethod
    def backward(ctx, grad):
        weight, scale = ctx.saved_tensors
        kernel = weight.to(grad.dtype) / scale.to(grad.dtype)[:, None]
        return torch.matmul(grad, kernel).to(ctx.x_dtype), None, None, None


def _squeeze0(scale):
    return scale.squeeze(0) if scale.ndim > 1 and scale.shape[0] == 1 else scale


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

    _quantizable_class = "ReversibleEmbedding"
    inputs_quantizer = None

    def build(self, input_shape=None):
        super().build(input_shape)  # a quantized policy builds the reverse table there too
        if not self.tie_weights and self._quant_mode is None:
            self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        if self._quant_mode is not None:
            logits = self._quantized_reverse(inputs)
        else:
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
        float_reverse = reverse and self.reverse_dtype and self.quantization_mode is None
        dtype = self.reverse_dtype if float_reverse else self.compute_dtype
        return KerasTensor(shape, dtype=dtype)

    # ------------------------------------------------------------ quantization (int8, int4)

    def _quantized_values(self, mode, config, block):
        values = super()._quantized_values(mode, config, block)
        if not self.tie_weights:
            table = self.reverse_embeddings.detach()
            values.update(quantize_reverse_table(table, mode, config, block))
        return values

    def _drop_float_tables(self):
        super()._drop_float_tables()
        if not self.tie_weights:
            self._drop_weight("reverse_embeddings")

    def _quantized_table(self, mode, block=None):
        super()._quantized_table(mode, block)
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            self.quantization_config, q.AbsMaxQuantizer(axis=-1)
        )
        if self.tie_weights:
            return
        rows = self.output_dim if mode == "int8" else (self.output_dim + 1) // 2
        self.add_weight(
            shape=(rows, self.input_dim), initializer="zeros", dtype="int8", trainable=False,
            name="reverse_embeddings",
        )
        if mode == "int4" and block is not None:
            scale_shape = (-(-self.output_dim // block), self.input_dim)
        else:
            scale_shape = (self.input_dim,)
        self.add_weight(
            shape=scale_shape, initializer="ones", trainable=False, name="reverse_embeddings_scale"
        )
        if mode == "int4" and block is not None:  # a float zero point, as Keras stores it
            self.add_weight(
                shape=scale_shape, initializer="zeros", trainable=False,
                name="reverse_embeddings_zero",
            )

    def _quantized_reverse(self, inputs):
        """Logits `(..., input_dim)` from the quantized tables, with Keras's numbers and dtypes.

        As in a Keras model (Embedding does not autocast): the inputs are taken as they come
        and the float scales are not cast, so under a mixed policy the logits are float32.
        """
        x = inputs
        tied, out_dim = self.tie_weights, self.output_dim
        if self._quant_mode == "int4" and self._int4_block_size is not None:
            # (output_dim, input_dim), in the scales' dtype
            kernel = self._grouped_reverse_kernel(torch_dtype(self.compute_dtype))
            if self.inputs_quantizer is None:
                return torch.matmul(x.to(kernel.dtype), kernel)
            x_q, x_scale = self.inputs_quantizer(x, axis=-1)
            return torch.matmul(x_q.to(kernel.dtype), kernel) / x_scale
        # `weight`: int8 `(input_dim, output_dim)`, one scale per vocabulary entry.
        if self._quant_mode == "int8":
            weight = self.weight if tied else self.reverse_embeddings.t()
        elif tied:
            weight = q.unpack_int4(self.weight, out_dim, axis=-1)
        else:
            weight = q.unpack_int4(self.reverse_embeddings, out_dim, axis=0).t()
        scale = self.embeddings_scale if tied else self.reverse_embeddings_scale
        return _ReverseInt8Matmul.apply(x, weight, scale, self.inputs_quantizer)

    def _grouped_reverse_kernel(self, dtype):
        """The dequantized `(output_dim, input_dim)` kernel of grouped int4: `(q - zero) * scale`
        per group of `block_size` rows (Keras's `g_idx`), in the scales' dtype."""
        group = self.g_idx.to(torch.int64)
        if self.tie_weights:
            values = q.unpack_int4(self.weight, self.output_dim, axis=-1).to(dtype)
            scale = self.embeddings_scale
            zero = self.embeddings_zero.to(scale.dtype)
            return ((values - zero[:, group]) * scale[:, group]).t()
        values = q.unpack_int4(self.reverse_embeddings, self.output_dim, axis=0).to(dtype)
        scale = self.reverse_embeddings_scale
        zero = self.reverse_embeddings_zero.to(scale.dtype)
        return (values - zero[group]) * scale[group]

    def _keras_store_names(self):
        names = super()._keras_store_names()
        if not self.tie_weights:
            present = {s.name for s in self._weight_specs}
            names = names + [n for n in _REVERSE_NAMES if n in present]
        return names

    def get_config(self):
        config = super().get_config()
        config.update({
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        })
        return config
