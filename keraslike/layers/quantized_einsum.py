"""Quantized EinsumDense (int8, int4, float8), as Keras 3 has it (equations without `...`).

int4 (Keras's layout): the kernel reshaped to `(rows, columns)` (rows: the contracted kernel
axes' sizes multiplied, columns: the others'), quantized per column (`kernel_scale`
`(columns,)`, `float = q / scale`) or in groups of `block_size` rows (`kernel_scale`,
`kernel_zero` `(groups, columns)`, `g_idx`, `float = (q - zero) * scale`), packed two values
per byte along the columns. The call dequantizes and contracts in float (inputs quantized
first when the config has an activation quantizer, per column only). float8: the float kernel
plus Keras's delayed-scaling weights (`quantized_float8.py`). gptq/awq: `quantized_calibrated.py`
(a 3-D kernel is flattened by Keras's rule: the largest axis first means `(in, heads, head_dim)`
-> `(in, heads * head_dim)`, else `(heads, head_dim, out)` -> `(heads * head_dim, out)`).

int8:

The kernel is quantized per output channel: its abs-max is taken over the kernel axes that the
equation contracts away. Keras stores `kernel_scale` already arranged to broadcast against the
*output* (the kept axes in output order, 1 for output axes the kernel lacks, contracted axes
moved to the front or squeezed); the same arrangement is kept here so `.keras` files move both
ways. Inputs are quantized (default `AbsMaxQuantizer`) over their contracted axes, and the
integer einsum is computed exactly (float64 on CPU) before the scales are divided out.
"""

import torch

from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.quantized_calibrated import CALIBRATED_MODES, CalibratedQuantizationMixin
from keraslike.layers.quantized_dense import block_size_for
from keraslike.layers.quantized_float8 import build_float8_weights, float8_contract
from keraslike.quantizers import quantizers as q
from keraslike.quantizers.kernels import grouped_int4_kernel
from keraslike.quantizers.quantization_config import (
    QuantizationConfig,
    validate_and_resolve_config,
)

_STORE_NAMES = {
    "int8": ("kernel", "bias", "kernel_scale"),
    "int4": ("kernel", "bias", "kernel_scale", "kernel_zero", "g_idx"),
    "float8": ("kernel", "bias", "inputs_scale", "inputs_amax_history", "kernel_scale",
               "kernel_amax_history", "outputs_grad_scale", "outputs_grad_amax_history"),
}


def analyze(equation):
    """Keras's quantization bookkeeping for `equation` (see `keras.layers.EinsumDense`).

    Returns a dict: `input_reduced`, `kernel_reduced` (contracted axes), the transpose, expand and
    squeeze axes arranging each scale to broadcast against the output, and `grad_equation`.
    """
    if "..." in equation:
        raise NotImplementedError(
            f"int8 quantization of EinsumDense with an elided ('...') equation is not supported "
            f"(equation '{equation}')."
        )
    inputs, rest = equation.replace(" ", "").split(",")
    kernel, output = rest.split("->")
    info = {"grad_equation": f"{output},{kernel}->{inputs}"}
    for name, spec in (("input", inputs), ("kernel", kernel)):
        reduced = [i for i, label in enumerate(spec) if label not in output]
        expand = [i for i, label in enumerate(output) if label not in spec]
        transpose = [spec.find(label) for label in output if label in spec]
        squeeze = []
        index = None
        for axis in reduced:
            # Keras's arrangement: a contracted axis takes the place of an output axis the
            # operand lacks; once none is left, it goes where the last one went and is squeezed.
            if expand:
                index = expand.pop(0)
            else:
                squeeze.append(axis)
                if index is None:
                    raise NotImplementedError(
                        f"int8 quantization of EinsumDense is not supported for equation "
                        f"'{equation}' (Keras cannot arrange its {name} scale either)."
                    )
            transpose.insert(index, axis)
        info[name] = {"reduced": reduced, "transpose": transpose, "expand": expand, "squeeze": squeeze}
    return info


def arrange_scale(scale, axes):
    """A keepdims scale of an operand -> Keras's arrangement broadcasting against the output."""
    if axes["transpose"]:
        scale = scale.permute(axes["transpose"])
    for axis in sorted(axes["expand"]):
        scale = scale.unsqueeze(axis)
    if axes["squeeze"]:
        scale = scale.squeeze(tuple(axes["squeeze"]))
    return scale


def unarrange_scale(scale, axes):
    """Inverse of `arrange_scale` (the kernel's scale back in the kernel's axis order)."""
    for axis in sorted(axes["squeeze"]):
        scale = scale.unsqueeze(axis)
    if axes["expand"]:
        scale = scale.squeeze(tuple(axes["expand"]))
    if axes["transpose"]:
        inverse = sorted(range(len(axes["transpose"])), key=axes["transpose"].__getitem__)
        scale = scale.permute(inverse)
    return scale


class _Int8Einsum(torch.autograd.Function):
    @staticmethod
    def forward(x, kernel, scale, info, equation, inputs_quantizer):
        if inputs_quantizer is None:
            float_kernel = kernel.to(x.dtype) / unarrange_scale(scale, info["kernel"]).to(x.dtype)
            return torch.einsum(equation, x, float_kernel)
        qx, x_scale = inputs_quantizer(x, axis=tuple(info["input"]["reduced"]))
        x_scale = arrange_scale(x_scale, info["input"])
        exact = torch.float64 if x.device.type == "cpu" else torch.float32
        y = torch.einsum(equation, qx.to(exact), kernel.to(exact)).to(x.dtype)
        return y / (x_scale * scale.to(x.dtype))

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, kernel, scale, info, _, _ = inputs
        ctx.info = info
        ctx.save_for_backward(kernel, scale)

    @staticmethod
    def backward(ctx, grad):
        kernel, scale = ctx.saved_tensors
        float_kernel = kernel.to(grad.dtype) / unarrange_scale(scale, ctx.info["kernel"]).to(grad.dtype)
        return torch.einsum(ctx.info["grad_equation"], grad, float_kernel), None, None, None, None, None


class _Int4Einsum(torch.autograd.Function):
    """Dequantize the int4 kernel, contract in float (inputs quantized first when asked);
    gradients reach the inputs only, through the dequantized kernel (Keras's custom gradient)."""

    @staticmethod
    def forward(x, float_kernel, info, equation, inputs_quantizer):
        if inputs_quantizer is None:
            return torch.einsum(equation, x, float_kernel)
        qx, x_scale = inputs_quantizer(x, axis=tuple(info["input"]["reduced"]))
        y = torch.einsum(equation, qx.to(x.dtype), float_kernel)
        return y / arrange_scale(x_scale, info["input"])

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.info = inputs[2]
        ctx.save_for_backward(inputs[1])

    @staticmethod
    def backward(ctx, grad):
        (float_kernel,) = ctx.saved_tensors
        return (torch.einsum(ctx.info["grad_equation"], grad, float_kernel), None, None, None,
                None)


def _flat_shape(kernel_shape, info):
    """Keras's int4 `(rows, columns)`: contracted kernel axes' sizes multiplied, and the rest's."""
    rows = columns = 1
    for i, d in enumerate(kernel_shape):
        if i in info["kernel"]["reduced"]:
            rows *= d
        else:
            columns *= d
    return rows, columns


def quantize_int4(kernel, block):
    """A float Keras-layout kernel -> `{"kernel" (packed), "kernel_scale"[, "kernel_zero"]}`."""
    rows, columns = kernel.shape[0], kernel.shape[1]
    flat = kernel.reshape(rows, columns)
    if block is None:
        values, scale = q.abs_max_quantize(flat, axis=0, value_range=(-8, 7), dtype="int8",
                                           to_numpy=True)
        return {"kernel": q.pack_int4(values, axis=-1)[0], "kernel_scale": scale.squeeze(0)}
    values, scale, zero = q.abs_max_quantize_grouped_with_zero_point(flat, block_size=block,
                                                                   to_numpy=True)
    return {"kernel": q.pack_int4(values, axis=-1)[0], "kernel_scale": scale,
            "kernel_zero": zero}


class EinsumQuantizationMixin(CalibratedQuantizationMixin):
    """`quantize("int8")`, the int8 build and call, and Keras's file layout for EinsumDense."""

    _quant_mode = None
    _quantize_type_name = "EinsumDense"  # `type_check` refuses subclasses of this class
    _calibrated_zero_name = "zero_point"

    def _calibrated_dims(self, kernel_shape):
        shape = list(kernel_shape)
        if len(shape) == 2:
            return shape[0], shape[1]
        if len(shape) != 3:
            raise ValueError(
                f'{self._quant_mode.upper()} quantization of layer "{self.name}" supports 2-D or '
                f"3-D kernels only. Received: kernel shape {tuple(shape)}"
            )
        if shape.index(max(shape)) == 0:  # (in, heads, head_dim): a QKV projection
            return shape[0], shape[1] * shape[2]
        return shape[0] * shape[1], shape[2]  # (heads, head_dim, out): the attention output

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the layer in place: `"int8"`, `"int4"`, `"float8"`, `"gptq"` or `"awq"`.

        For `"gptq"`/`"awq"` the layer only gets its quantized weights here (it keeps computing
        with the float kernel); `model.quantize` then calibrates it and drops the float kernel.

        Args:
            mode: The quantization mode (optional when `config` gives it).
            type_check: Refuse subclasses of `EinsumDense`, as Keras does.
            config: A `keras.quantizers.QuantizationConfig` (quantizers, int4 block size).

        Raises:
            NotImplementedError: For a subclass (with `type_check`), or int8/int4 with an
                equation with `...`.
            ValueError: For an unbuilt or already quantized layer, or a bad mode/config.
        """
        if type_check and type(self).__name__ != self._quantize_type_name:
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not have a `quantize()` method implemented."
            )
        config = validate_and_resolve_config(mode, config)
        mode = config.mode
        if not self.built:
            raise ValueError(f'Cannot quantize layer "{self.name}": it is not built yet.')
        if self.quantization_mode is not None:
            raise ValueError(f'Layer "{self.name}" is already quantized ({self.quantization_mode}).')
        self.quantization_config = config
        if mode in CALIBRATED_MODES:
            kernel_shape = self._lora_base_shape()
            self._quant_mode = mode
            self._calibrated_build(kernel_shape, mode, config, False)
            if mode == "gptq":
                self.gptq_unpacked_column_size = self._calib_shape[1]
            self._dtype_policy_name = f"{config.dtype_policy_string()}_from_{self.dtype_policy.name}"
            return
        mode_name = mode
        if mode == "float8":
            build_float8_weights(self)
        else:
            info = analyze(self.equation)
            kernel = self._lora_base_keras().detach()
            spec = next(s for s in self._weight_specs if s.name == "kernel")
            if mode == "int8":
                quantizer = QuantizationConfig.weight_quantizer_or_default(
                    config, q.AbsMaxQuantizer(axis=tuple(info["kernel"]["reduced"]))
                )
                values, scale = quantizer(kernel, to_numpy=True)
                values = {"kernel": values, "kernel_scale": arrange_scale(scale, info["kernel"])}
            else:
                block = block_size_for(self, config)
                mode_name = f"int4/{block if block is not None else -1}"
                values = quantize_int4(kernel.reshape(_flat_shape(kernel.shape, info)), block)
            self._weight_specs.remove(spec)
            del self._parameters[spec.attr]
            if mode == "int8":
                self._int8_weights(tuple(kernel.shape), info, config)
            else:
                self._int4_weights(tuple(kernel.shape), info, config)
            with torch.no_grad():
                for name, value in values.items():
                    self._find_tensor(name).copy_(torch.as_tensor(value))
        self._dtype_policy_name = f"{mode_name}_from_{self.dtype_policy.name}"
        self._quant_mode = mode

    def _int8_weights(self, kernel_shape, info, config):
        self._quant_info = info
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, q.AbsMaxQuantizer()
        )
        self.add_weight(shape=kernel_shape, initializer="zeros", dtype="int8", trainable=False, name="kernel")
        scale_shape = [1 if i in info["kernel"]["reduced"] else d for i, d in enumerate(kernel_shape)]
        scale_shape = tuple(arrange_scale(torch.empty(scale_shape, device="meta"), info["kernel"]).shape)
        self.add_weight(shape=scale_shape, initializer="ones", trainable=False, name="kernel_scale")

    def _int4_weights(self, kernel_shape, info, config):
        self._quant_info = info
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(config, None)
        self._int4_kernel_shape = tuple(kernel_shape)
        rows, columns = _flat_shape(kernel_shape, info)
        block = block_size_for(self, config)
        self._int4_block_size = block
        self.add_weight(shape=(rows, (columns + 1) // 2), initializer="zeros", dtype="int8",
                        trainable=False, name="kernel")
        scale_shape = (columns,) if block is None else (-(-rows // block), columns)
        self.add_weight(shape=scale_shape, initializer="ones", trainable=False,
                        name="kernel_scale")
        if block is not None:
            self.add_weight(shape=scale_shape, initializer="zeros", dtype="int8",
                            trainable=False, name="kernel_zero")
            self.add_weight(
                shape=(rows,), dtype="float32", trainable=False, name="g_idx",
                initializer=lambda shape, dtype=None: torch.arange(rows) // block,
            )

    def _build_quantized_from_policy(self, kernel_shape):
        """In `build`: a layer whose dtype policy is quantized. Returns whether it created the
        kernel (float8 keeps the float kernel, built after its scales as in Keras)."""
        mode = self.quantization_mode
        self._quant_mode = mode
        if mode == "float8":
            build_float8_weights(self)
            return False
        if mode == "int8":
            self._int8_weights(tuple(kernel_shape), analyze(self.equation), self.quantization_config)
        elif mode == "int4":
            self._int4_weights(tuple(kernel_shape), analyze(self.equation), self.quantization_config)
        elif mode in CALIBRATED_MODES:
            self._calibrated_build(tuple(kernel_shape), mode, self.quantization_config, True)
            if mode == "gptq":
                self.gptq_unpacked_column_size = self._calib_shape[1]
        else:
            self._quant_mode = None
            raise NotImplementedError(
                f'keraslike builds EinsumDense quantized to int8, int4 or float8 (layer '
                f'"{self.name}", mode={mode!r}).'
            )
        return True

    def _int4_float_kernel(self, dtype):
        """The float kernel (Keras layout) the int4 storage stands for."""
        packed, scale = self._find_tensor("kernel"), self.kernel_scale
        block = self._int4_block_size
        if block is None:
            columns = scale.shape[-1]
            flat = q.unpack_int4(packed, columns, axis=-1).to(dtype) / scale.to(dtype)
        else:
            flat = grouped_int4_kernel(packed, scale, self.kernel_zero, block).to(dtype)
        return flat.reshape(self._int4_kernel_shape)

    def _lora_base_keras(self):
        if self._quant_mode in CALIBRATED_MODES:
            return self._calibrated_kernel_value()
        if self._quant_mode == "int4":  # Keras's `kernel`: the int4 values, unpacked, reshaped
            columns = self.kernel_scale.shape[-1]
            unpacked = q.unpack_int4(self._find_tensor("kernel"), columns, axis=-1)
            return unpacked.reshape(self._int4_kernel_shape)
        return super()._lora_base_keras()

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
        if mode in ("int8", "int4") and self.lora_enabled and name in (
                "kernel", "kernel_scale", "kernel_zero"):
            # As Keras: dequantize, add the LoRA update, quantize again.
            info = self._quant_info
            if mode == "int8":
                float_kernel = self._find_tensor("kernel").float() / unarrange_scale(
                    self.kernel_scale, info["kernel"])
                merged = float_kernel + self._lora_delta_keras()
                values, scale = q.abs_max_quantize(merged, tuple(info["kernel"]["reduced"]),
                                                   to_numpy=True)
                return values if name == "kernel" else arrange_scale(scale, info["kernel"])
            merged = self._int4_float_kernel(torch.float32) + self._lora_delta_keras()
            flat = merged.reshape(_flat_shape(merged.shape, info))
            return quantize_int4(flat, self._int4_block_size)[name]
        if mode is not None:
            spec = next(s for s in self._weight_specs if s.name == name)
            return spec.layout.to_keras(self._find_tensor(spec.attr))
        return super()._keras_store_value(name)

    def _quantized_call(self, inputs, training=None):
        dtype = torch_dtype(self.compute_dtype)
        x = inputs.to(dtype) if inputs.is_floating_point() and inputs.dtype != dtype else inputs
        mode = self._quant_mode
        if mode in CALIBRATED_MODES:
            y = torch.einsum(self.equation, x, self._calibrated_float_kernel())
        elif mode == "int8":
            y = _Int8Einsum.apply(
                x, self._find_tensor("kernel"), self.kernel_scale, self._quant_info,
                self.equation, self.inputs_quantizer,
            )
        elif mode == "int4":
            quantizer = self.inputs_quantizer if self._int4_block_size is None else None
            y = _Int4Einsum.apply(x, self._int4_float_kernel(dtype), self._quant_info,
                                  self.equation, quantizer)
        else:
            if self.lora_enabled:
                raise NotImplementedError("Currently, `_float8_call` doesn't support LoRA")
            kernel = self._find_tensor(self._float_kernel_spec().attr)
            y = float8_contract(self, self._einsum, x, kernel, training)
        if self.lora_enabled:
            lora = torch.einsum(self.equation, inputs, self.lora_kernel_a)
            y = (y + self._lora_scale * torch.matmul(lora, self.lora_kernel_b)).to(dtype)
        bias = self.bias
        if bias is not None:
            if mode == "float8" and self.compute_dtype == "float32":
                bias = bias.to(torch.bfloat16).to(bias.dtype)  # as Keras (XLA's bias fusion)
            elif mode in CALIBRATED_MODES:
                bias = bias.to(dtype)  # Keras autocasts the bias to the compute dtype
            y = y + bias
        if self._act is not None:
            y = self._act(y)
        return y

    def _einsum(self, x, kernel):
        return torch.einsum(self.equation, x, kernel)
