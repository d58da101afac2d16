"""Quantized Embedding (int8, int4), as Keras 3 has it.

int8: `embeddings` int8 `(input_dim, output_dim)` and `embeddings_scale` `(input_dim,)` (one
abs-max scale per row; a row is `q / scale`). int4: `embeddings` packed two values per byte
along the output axis, `(input_dim, ceil(output_dim / 2))`; per row (`block_size` -1/None) with
`embeddings_scale` `(input_dim,)`, or in groups of `block_size` output values with
`embeddings_scale`, `embeddings_zero` `(input_dim, groups)` and `g_idx` `(output_dim,)`
(`float = (q - zero) * scale`). Only the looked-up rows are dequantized.
"""

import math

import torch
import torch.nn.functional as F

from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.quantized_dense import block_size_for
from keraslike.quantizers import quantizers as q
from keraslike.quantizers.quantization_config import (
    QuantizationConfig,
    validate_and_resolve_config,
)

_STORE_NAMES = {
    "int8": ("embeddings", "embeddings_scale"),
    "int4": ("embeddings", "embeddings_scale", "embeddings_zero", "g_idx"),
}


# What Keras re-quantizes with the LoRA update merged in when it saves a quantized table.
_MERGED_NAMES = ("embeddings", "embeddings_scale", "embeddings_zero")


def quantize_table(table, mode, config=None, block_size=None):
    """Quantizes a float `(input_dim, output_dim)` table: a dict of Keras-layout tensors."""
    if mode == "int8":
        quantizer = QuantizationConfig.weight_quantizer_or_default(config, q.AbsMaxQuantizer(axis=-1))
        values, scale = quantizer(table, to_numpy=True)
        return {"embeddings": values, "embeddings_scale": scale.squeeze(-1)}
    if block_size is None:
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, q.AbsMaxQuantizer(axis=-1, value_range=(-8, 7), output_dtype="int8")
        )
        values, scale = quantizer(table, to_numpy=True)
        return {"embeddings": q.pack_int4(values, axis=-1)[0], "embeddings_scale": scale.squeeze(-1)}
    values_t, scale_t, zero_t = q.abs_max_quantize_grouped_with_zero_point(
        table.t(), block_size=block_size, to_numpy=True
    )
    return {
        "embeddings": q.pack_int4(values_t.t().contiguous(), axis=-1)[0],
        "embeddings_scale": scale_t.t().contiguous(),
        "embeddings_zero": zero_t.t().contiguous(),
    }


class EmbeddingQuantizationMixin:
    """`quantize(mode)`, quantized builds and lookups, and Keras's file layout for Embedding.

    Subclasses with more tables (ReversibleEmbedding) extend `_quantized_values`,
    `_drop_float_tables` and `_quantized_table`, and name themselves in `_quantizable_class`.
    """

    _quant_mode = None
    # Keras refuses `quantize` (with `type_check`) on any class but this one: a subclass's
    # `call` may use the table in ways the quantized layer does not reproduce.
    _quantizable_class = "Embedding"

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the table in place (`"int8"` or `"int4"`).

        Raises:
            NotImplementedError: For a subclass (with `type_check`) or another mode.
            ValueError: For an unbuilt or already quantized layer, or a bad mode/config.
        """
        if type_check and type(self).__name__ != self._quantizable_class:
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not have a `quantize()` method implemented."
            )
        config = validate_and_resolve_config(mode, config)
        mode = config.mode
        if mode not in ("int8", "int4"):
            raise NotImplementedError(
                f"Invalid quantization mode. Expected one of ('int8', 'int4'). Received: "
                f"quantization_mode={mode} (layer \"{self.name}\")"
            )
        if not self.built:
            raise ValueError(f'Cannot quantize layer "{self.name}": it is not built yet.')
        if self.quantization_mode is not None:
            raise ValueError(f'Layer "{self.name}" is already quantized ({self.quantization_mode}).')
        self.quantization_config = config
        block = block_size_for(self, config) if mode == "int4" else None
        values = self._quantized_values(mode, config, block)
        self._drop_float_tables()
        self._quantized_table(mode, block)
        with torch.no_grad():
            for name, value in values.items():
                self._assign_keras(name, value)
        mode_name = f"int4/{block if block is not None else -1}" if mode == "int4" else mode
        self._dtype_policy_name = f"{mode_name}_from_{self.dtype_policy.name}"
        self._quant_mode = mode

    def _quantized_values(self, mode, config, block):
        """The quantized weights' values, by Keras name, in Keras's layouts."""
        return quantize_table(self.weight.detach(), mode, config, block)

    def _drop_float_tables(self):
        self._drop_weight("embeddings")

    def _drop_weight(self, name):
        spec = next(s for s in self._weight_specs if s.name == name)
        self._weight_specs.remove(spec)
        table = self._parameters if spec.attr in self._parameters else self._buffers
        del table[spec.attr]

    def _assign_keras(self, name, value):
        spec = next(s for s in self._weight_specs if s.name == name)
        target = self._find_tensor(spec.attr)
        value = torch.as_tensor(value)
        expected = spec.layout.keras_shape(target.shape)
        if tuple(value.shape) != tuple(expected):
            raise ValueError(
                f'Layer "{self.name}": the quantizer gave `{name}` the shape '
                f"{tuple(value.shape)}, expected {tuple(expected)}."
            )
        target.copy_(spec.layout.to_torch(value.to(target.device, target.dtype)))

    def _quantized_table(self, mode, block=None):
        rows, cols = self.input_dim, self.output_dim
        if mode == "int8":
            self.add_weight(
                shape=(rows, cols), initializer="zeros", dtype="int8", trainable=False,
                name="embeddings", torch_name="weight",
            )
            self.add_weight(shape=(rows,), initializer="ones", trainable=False, name="embeddings_scale")
            return
        self.add_weight(
            shape=(rows, (cols + 1) // 2), initializer="zeros", dtype="int8", trainable=False,
            name="embeddings", torch_name="weight",
        )
        self._int4_block_size = block
        scale_shape = (rows,) if block is None else (rows, math.ceil(cols / block))
        self.add_weight(shape=scale_shape, initializer="ones", trainable=False, name="embeddings_scale")
        if block is not None:
            self.add_weight(
                shape=scale_shape, initializer="zeros", dtype="int8", trainable=False,
                name="embeddings_zero",
            )
            self.add_weight(
                shape=(cols,), initializer=lambda shape, dtype=None: torch.arange(cols) // block,
                dtype="float32", trainable=False, name="g_idx",
            )

    def _build_quantized_from_policy(self):
        mode = self.quantization_mode
        if mode not in ("int8", "int4"):
            raise NotImplementedError(
                f'Quantization mode {mode!r} is not implemented for Embedding "{self.name}".'
            )
        block = block_size_for(self, self.quantization_config) if mode == "int4" else None
        self._quantized_table(mode, block)
        self._quant_mode = mode

    def _lora_base_keras(self):
        if self._quant_mode == "int4":
            return q.unpack_int4(self.weight, self.output_dim, axis=-1)
        return super()._lora_base_keras()

    def _keras_store_names(self):
        if self._quant_mode is None:
            return super()._keras_store_names()
        present = {s.name for s in self._weight_specs}
        return [n for n in _STORE_NAMES[self._quant_mode] if n in present]

    def _keras_store_value(self, name):
        if self._quant_mode is not None and self.lora_enabled and name in _MERGED_NAMES:
            merged = self._dequantized_rows(torch.arange(self.input_dim)).float()
            merged = merged + self._lora_delta_keras()
            block = getattr(self, "_int4_block_size", None)
            return quantize_table(merged, self._quant_mode, self.quantization_config, block)[name]
        if self._quant_mode is not None:  # the stored (packed) tensor itself
            spec = next(s for s in self._weight_specs if s.name == name)
            return spec.layout.to_keras(self._find_tensor(spec.attr))
        return super()._keras_store_value(name)

    def _dequantized_rows(self, indices):
        # As Keras (Embedding does not autocast its variables): the int values are cast to the
        # compute dtype, the scales and zero points are not, so under a mixed policy the rows
        # come out in the variable dtype.
        dtype = torch_dtype(self.compute_dtype)
        scale = self.embeddings_scale[indices]
        if self._quant_mode == "int8":
            rows = F.embedding(indices, self.weight).to(dtype)
            return rows / scale.unsqueeze(-1)
        rows = q.unpack_int4(F.embedding(indices, self.weight), self.output_dim, axis=-1).to(dtype)
        if getattr(self, "_int4_block_size", None) is None:
            return rows / scale.unsqueeze(-1)
        group = self.g_idx.to(torch.int64)
        zero = self.embeddings_zero[indices].to(scale.dtype)
        return (rows - zero[..., group]) * scale[..., group]

    def _quantized_call(self, inputs):
        outputs = self._dequantized_rows(inputs)
        if self.lora_enabled:
            lora = torch.matmul(F.embedding(inputs, self.lora_embeddings_a), self.lora_embeddings_b)
            outputs = (outputs + self._lora_scale * lora).to(torch_dtype(self.compute_dtype))
        return outputs
