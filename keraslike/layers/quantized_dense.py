"""Quantized Dense (int8, int4, float8), as Keras 3 has it, on torch kernels.

Storage (Keras names; `.keras` files hold them in Keras's layouts and order):

- int8: `kernel` int8, stored `(units, in)` like `nn.Linear.weight` (Keras's `(in, units)` at
  the boundary), `kernel_scale` `(units,)`; `float kernel = kernel / kernel_scale`. Inputs are
  quantized per row by the config's activation quantizer (default `AbsMaxQuantizer()`, i.e.
  dynamic int8) and the matmul runs int8 x int8 -> int32 (`torch._int_mm`); with no
  activation quantizer it is weight-only.
- int4: `kernel` int8 `(in, ceil(units / 2))`, two int4 values per byte along the units axis.
  Per channel (`block_size` -1/None): `kernel_scale` `(units,)`, `float = q / scale`. In groups
  of `block_size` inputs (Keras's default, 128): `kernel_scale`, `kernel_zero` `(groups, units)`
  and `g_idx` `(in,)`, `float = (q - zero) * scale`.
- float8: the float kernel plus scales and amax histories of inputs, kernel and output
  gradients; inputs and kernel go through float8 (e4m3) and back, the scales follow the amax
  history during training (Keras's delayed scaling). On GPUs with float8 matmuls the product
  runs as `torch._scaled_mm` (see `quantized_float8.py`); elsewhere the same numbers come from
  dequantize-then-matmul.
- gptq / awq: see `quantized_calibrated.py` (Keras's layout; dequantize-then-matmul).
"""

import math

import torch

from keraslike.dtype_policies import Int4DTypePolicy
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.quantized_calibrated import CALIBRATED_MODES, CalibratedQuantizationMixin
from keraslike.layers.quantized_float8 import build_float8_weights, float8_contract
from keraslike.layers.weight_layout import TRANSPOSED
from keraslike.quantizers import quantizers as q
from keraslike.quantizers.kernels import grouped_int4_kernel, grouped_int4_linear, int8_linear
from keraslike.quantizers.quantization_config import (
    Int4QuantizationConfig,
    QuantizationConfig,
    validate_and_resolve_config,
)

_STORE_NAMES = {
    "int8": ("kernel", "bias", "kernel_scale"),
    "int4": ("kernel", "bias", "kernel_scale", "kernel_zero", "g_idx"),
    "float8": (
        "kernel",
        "bias",
        "inputs_scale",
        "inputs_amax_history",
        "kernel_scale",
        "kernel_amax_history",
        "outputs_grad_scale",
        "outputs_grad_amax_history",
    ),
}


def block_size_for(layer, config):
    """The int4 block size from a config, else from the layer's `Int4DTypePolicy` (None: per channel)."""
    if isinstance(config, Int4QuantizationConfig):
        block = config.block_size
    elif isinstance(layer.dtype_policy, Int4DTypePolicy):
        block = layer.dtype_policy.block_size
    else:
        block = None
    return None if block is None or block == -1 else block


def quantize_kernel(kernel, mode, config=None, block_size=None):
    """Quantizes a float Keras-layout `(in, units)` kernel: a dict of Keras-layout tensors."""
    if mode == "int8":
        quantizer = QuantizationConfig.weight_quantizer_or_default(config, q.AbsMaxQuantizer(axis=0))
        values, scale = quantizer(kernel, to_numpy=True)
        return {"kernel": values, "kernel_scale": scale.squeeze(0)}
    if block_size is None:
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, q.AbsMaxQuantizer(axis=0, value_range=(-8, 7), output_dtype="int8")
        )
        values, scale = quantizer(kernel, to_numpy=True)
        packed, _, _ = q.pack_int4(values, axis=-1)
        return {"kernel": packed, "kernel_scale": scale.squeeze(0)}
    values, scale, zero = q.abs_max_quantize_grouped_with_zero_point(
        kernel, block_size=block_size, to_numpy=True
    )
    packed, _, _ = q.pack_int4(values, axis=-1)
    return {"kernel": packed, "kernel_scale": scale, "kernel_zero": zero}


class DenseQuantizationMixin(CalibratedQuantizationMixin):
    """`quantize(mode)`, quantized builds and calls, and Keras's quantized file layout for Dense."""

    _quant_mode = None

    def _calibrated_dims(self, kernel_shape):
        return kernel_shape[0], kernel_shape[1]

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the layer's kernel in place (`"int8"`, `"int4"`, `"float8"`, `"gptq"`, `"awq"`).

        For `"gptq"`/`"awq"` the layer only gets its quantized weights here (it keeps computing
        with the float kernel); `model.quantize` then calibrates it and drops the float kernel.

        Args:
            mode: The quantization mode (optional when `config` gives it).
            type_check: Refuse subclasses of `Dense` (their `call` may not use the kernel
                the way Dense does), as Keras does.
            config: A `keras.quantizers.QuantizationConfig` (quantizers, int4 block size).

        Raises:
            NotImplementedError: For a subclass.
            ValueError: For an unknown mode, an unbuilt or already quantized layer.
        """
        if type_check and type(self).__name__ != "Dense":
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not have a `quantize()` method implemented."
            )
        config = validate_and_resolve_config(mode, config)
        mode = config.mode
        if not self.built:
            raise ValueError(f'Cannot quantize layer "{self.name}": it is not built yet.')
        if self.quantization_mode is not None:
            raise ValueError(
                f'Layer "{self.name}" is already quantized with mode={self.quantization_mode}; '
                f"cannot quantize it again to mode={mode}."
            )
        self.quantization_config = config
        if mode in CALIBRATED_MODES:
            in_dim = self._lora_base_shape()[0]
            self._quant_mode = mode
            self._calibrated_build((in_dim, self.units), mode, config, False)
            self._dtype_policy_name = f"{config.dtype_policy_string()}_from_{self.dtype_policy.name}"
            return
        kernel = self._lora_base_keras().detach()
        block = None
        if mode == "float8":
            self._float8_build()
        else:
            block = block_size_for(self, config) if mode == "int4" else None
            values = quantize_kernel(kernel, mode, config, block)
            self._drop_weight("kernel")
            self._quantized_weights(kernel.shape, mode, config, block)
            with torch.no_grad():
                for name, value in values.items():
                    self._assign(name, value)
        source = self.dtype_policy.name
        if mode == "int4":
            mode_name = f"int4/{block if block is not None else -1}"
        else:
            mode_name = mode
        self._dtype_policy_name = f"{mode_name}_from_{source}"
        self._quant_mode = mode

    # ------------------------------------------------------------------ weights

    def _drop_weight(self, name):
        spec = next(s for s in self._weight_specs if s.name == name)
        self._weight_specs.remove(spec)
        table = self._parameters if spec.attr in self._parameters else self._buffers
        del table[spec.attr]

    def _assign(self, name, value):
        spec = next(s for s in self._weight_specs if s.name == name)
        target = self._find_tensor(spec.attr)
        target.copy_(spec.layout.to_torch(torch.as_tensor(value).to(target.device, target.dtype)))

    def _quantized_weights(self, kernel_shape, mode, config, block=None):
        """Creates the quantized kernel weights (Keras's `quantized_build`, minus the bias)."""
        in_dim, units = kernel_shape
        default = q.AbsMaxQuantizer() if mode == "int8" else None
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(config, default)
        if mode == "int8":
            self.add_weight(
                shape=(in_dim, units), initializer="zeros", dtype="int8", trainable=False,
                name="kernel", torch_name="weight", layout=TRANSPOSED,
            )
            self.add_weight(shape=(units,), initializer="ones", trainable=False, name="kernel_scale")
            return
        self.add_weight(
            shape=(in_dim, (units + 1) // 2), initializer="zeros", dtype="int8", trainable=False,
            name="kernel", torch_name="weight",
        )
        self._int4_block_size = block
        scale_shape = (units,) if block is None else (math.ceil(in_dim / block), units)
        self.add_weight(shape=scale_shape, initializer="ones", trainable=False, name="kernel_scale")
        if block is not None:
            self.add_weight(
                shape=scale_shape, initializer="zeros", dtype="int8", trainable=False,
                name="kernel_zero",
            )
            self.add_weight(
                shape=(in_dim,), initializer=lambda shape, dtype=None: torch.arange(in_dim) // block,
                dtype="float32", trainable=False, name="g_idx",
            )

    def _float8_build(self):
        build_float8_weights(self)

    def _build_quantized_from_policy(self, kernel_shape):
        """In `build`: the weights of a layer whose dtype policy is already quantized."""
        mode = self.quantization_mode
        config = self.quantization_config
        if mode in CALIBRATED_MODES:
            self._quant_mode = mode
            self._calibrated_build(kernel_shape, mode, config, True)
            return True
        if mode == "float8":
            return False  # the float kernel is built as usual, then `_float8_build`
        block = block_size_for(self, config) if mode == "int4" else None
        self._quantized_weights(kernel_shape, mode, config, block)
        self._quant_mode = mode
        return True

    def _lora_base_keras(self):
        if self._quant_mode in CALIBRATED_MODES:
            return self._calibrated_kernel_value()
        if self._quant_mode == "int4":
            spec = next(s for s in self._weight_specs if s.name == "kernel")
            return q.unpack_int4(self._find_tensor(spec.attr), self.units, axis=-1)
        return super()._lora_base_keras()

    def _dequantized_kernel(self):
        """The float kernel `(in, units)` the quantized storage stands for."""
        mode = self._quant_mode
        dtype = torch_dtype(self.compute_dtype)
        if mode == "int8":
            return self.weight.t().to(dtype) / self.kernel_scale.to(dtype)
        if mode == "int4":
            return _int4_dequantize(
                self.weight, self.kernel_scale, getattr(self, "kernel_zero", None),
                getattr(self, "_int4_block_size", None), self.units,
            ).to(dtype)
        return self._lora_base_keras()

    # ------------------------------------------------------------------ Keras files

    def _keras_store_names(self):
        if self._quant_mode is None:
            return super()._keras_store_names()
        if self._quant_mode in CALIBRATED_MODES:
            return self._calibrated_store_names()
        present = {s.name for s in self._weight_specs}
        return [n for n in _STORE_NAMES[self._quant_mode] if n in present]

    def _keras_store_value(self, name):
        mode = self._quant_mode
        if mode in CALIBRATED_MODES:
            return self._calibrated_store_value(name)
        if mode in ("int8", "int4") and self.lora_enabled and name in ("kernel", "kernel_scale", "kernel_zero"):
            # As Keras: dequantize, add the LoRA update, quantize again.
            merged = self._dequantized_kernel().float() + self._lora_delta_keras()
            block = getattr(self, "_int4_block_size", None) if mode == "int4" else None
            return quantize_kernel(merged, mode, self.quantization_config, block)[name]
        if self._quant_mode is not None:  # the stored (packed) tensor itself
            spec = next(s for s in self._weight_specs if s.name == name)
            return spec.layout.to_keras(self._find_tensor(spec.attr))
        return super()._keras_store_value(name)

    # ------------------------------------------------------------------ calls

    def _quantized_call(self, inputs, training=None):
        x = inputs
        dtype = torch_dtype(self.compute_dtype)
        if x.is_floating_point() and x.dtype != dtype:
            x = x.to(dtype)
        mode = self._quant_mode
        if mode in CALIBRATED_MODES:
            y = torch.matmul(x, self._calibrated_float_kernel())
        elif mode == "int8":
            y = int8_linear(x, self.weight, self.kernel_scale, self.inputs_quantizer)
        elif mode == "int4" and getattr(self, "_int4_block_size", None) is None:
            unpacked = q.unpack_int4(self.weight, self.units, axis=-1)  # (in, units) int8
            y = int8_linear(x, unpacked.t(), self.kernel_scale, self.inputs_quantizer)
        elif mode == "int4":
            y = grouped_int4_linear(
                x, self.weight, self.kernel_scale, self.kernel_zero, self._int4_block_size
            )
        else:
            y = self._float8_matmul(x, training)
        if self.lora_enabled:
            lora = torch.matmul(torch.matmul(inputs, self.lora_kernel_a), self.lora_kernel_b)
            y = (y + self._lora_scale * lora).to(dtype)
        bias = self.bias
        if bias is not None:
            if mode == "float8" and self.compute_dtype == "float32":
                bias = bias.to(torch.bfloat16).to(bias.dtype)  # as Keras (for XLA's bias fusion)
            elif mode in CALIBRATED_MODES:
                bias = bias.to(dtype)  # Keras autocasts the bias to the compute dtype
            y = y + bias
        if self._act is not None:
            y = self._act(y)
        return y

    def _float8_matmul(self, x, training):
        if self.lora_enabled:
            raise NotImplementedError("Currently, `_float8_call` doesn't support LoRA")
        return float8_contract(self, torch.matmul, x, self.weight.t(), training)


def _int4_dequantize(packed, scale, zero, block, units):
    if block is None:
        return q.unpack_int4(packed, units, axis=-1).to(scale.dtype) / scale
    return grouped_int4_kernel(packed, scale, zero, block)
