"""int8 EinsumDense, as Keras 3 has it (equations without `...`).

The kernel is quantized per output channel: its abs-max is taken over the kernel axes that the
equation contracts away. Keras stores `kernel_scale` already arranged to broadcast against the
*output* (the kept axes in output order, 1 for output axes the kernel lacks, contracted axes
moved to the front or squeezed); the same arrangement is kept here so `.keras` files move both
ways. Inputs are quantized (default `AbsMaxQuantizer`) over their contracted axes, and the
integer einsum is computed exactly (float64 on CPU) before the scales are divided out.
"""

import torch

from keraslike.graph.shape_inference import torch_dtype
from keraslike.quantizers import quantizers as q
from keraslike.quantizers.quantization_config import (
    QuantizationConfig,
    validate_and_resolve_config,
)


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


class EinsumQuantizationMixin:
    """`quantize("int8")`, the int8 build and call, and Keras's file layout for EinsumDense."""

    _quant_mode = None

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the kernel to int8 in place (other modes raise NotImplementedError).

        Raises:
            NotImplementedError: For a subclass (with `type_check`), a mode other than int8, or
                an equation with `...`.
            ValueError: For an unbuilt or already quantized layer, or a bad mode/config.
        """
        if type_check and type(self).__name__ != "EinsumDense":
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not have a `quantize()` method implemented."
            )
        config = validate_and_resolve_config(mode, config)
        if config.mode != "int8":
            raise NotImplementedError(
                f'keraslike quantizes EinsumDense to int8 only (layer "{self.name}", '
                f"mode={config.mode!r})."
            )
        if not self.built:
            raise ValueError(f'Cannot quantize layer "{self.name}": it is not built yet.')
        if self.quantization_mode is not None:
            raise ValueError(f'Layer "{self.name}" is already quantized ({self.quantization_mode}).')
        info = analyze(self.equation)
        self.quantization_config = config
        kernel = self._lora_base_keras().detach()
        quantizer = QuantizationConfig.weight_quantizer_or_default(
            config, q.AbsMaxQuantizer(axis=tuple(info["kernel"]["reduced"]))
        )
        values, scale = quantizer(kernel, to_numpy=True)
        scale = arrange_scale(scale, info["kernel"])
        spec = next(s for s in self._weight_specs if s.name == "kernel")
        self._weight_specs.remove(spec)
        del self._parameters[spec.attr]
        self._int8_weights(tuple(kernel.shape), info, config)
        with torch.no_grad():
            self._buffers["kernel"].copy_(values)
            self.kernel_scale.copy_(scale)
        self._dtype_policy_name = f"int8_from_{self.dtype_policy.name}"
        self._quant_mode = "int8"

    def _int8_weights(self, kernel_shape, info, config):
        self._quant_info = info
        self.inputs_quantizer = QuantizationConfig.activation_quantizer_or_default(
            config, q.AbsMaxQuantizer()
        )
        self.add_weight(shape=kernel_shape, initializer="zeros", dtype="int8", trainable=False, name="kernel")
        scale_shape = [1 if i in info["kernel"]["reduced"] else d for i, d in enumerate(kernel_shape)]
        scale_shape = tuple(arrange_scale(torch.empty(scale_shape, device="meta"), info["kernel"]).shape)
        self.add_weight(shape=scale_shape, initializer="ones", trainable=False, name="kernel_scale")

    def _build_quantized_from_policy(self, kernel_shape):
        mode = self.quantization_mode
        if mode != "int8":
            raise NotImplementedError(
                f'keraslike builds EinsumDense quantized to int8 only (layer "{self.name}", '
                f"mode={mode!r})."
            )
        self._int8_weights(tuple(kernel_shape), analyze(self.equation), self.quantization_config)
        self._quant_mode = mode

    def _keras_store_names(self):
        if self._quant_mode is None:
            return super()._keras_store_names()
        present = {s.name for s in self._weight_specs}
        return [n for n in ("kernel", "bias", "kernel_scale") if n in present]

    def _keras_store_value(self, name):
        if self._quant_mode is not None and self.lora_enabled and name in ("kernel", "kernel_scale"):
            info = self._quant_info
            float_kernel = self._find_tensor("kernel").float() / unarrange_scale(self.kernel_scale, info["kernel"])
            merged = float_kernel + self._lora_delta_keras()
            values, scale = q.abs_max_quantize(merged, tuple(info["kernel"]["reduced"]), to_numpy=True)
            return values if name == "kernel" else arrange_scale(scale, info["kernel"])
        if self._quant_mode is not None:
            return self._find_tensor(name) if name != "bias" else self.bias
        return super()._keras_store_value(name)

    def _quantized_call(self, inputs):
        dtype = torch_dtype(self.compute_dtype)
        x = inputs.to(dtype) if inputs.is_floating_point() and inputs.dtype != dtype else inputs
        y = _Int8Einsum.apply(
            x, self._find_tensor("kernel"), self.kernel_scale, self._quant_info, self.equation,
            self.inputs_quantizer,
        )
        if self.lora_enabled:
            lora = torch.einsum(self.equation, inputs, self.lora_kernel_a)
            y = (y + self._lora_scale * torch.matmul(lora, self.lora_kernel_b)).to(dtype)
        if self.bias is not None:
            y = y + self.bias
        if self._act is not None:
            y = self._act(y)
        return y
