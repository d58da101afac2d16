"""float8 training as Keras 3 does it (Dense and EinsumDense): delayed scaling of inputs, kernel
and output gradients through float8 quantize-dequantize.

The scales and amax histories are trainable weights in Keras's counts, marked
`overwrite_with_gradient`: the forward pass (inputs, kernel) and the backward pass (output
gradients) update them in place, so they carry no gradient and optimizers leave them alone.

On a CUDA GPU with float8 matmuls (compute capability 8.9+), a 2-D product with float32 or
bfloat16 operands runs as `torch._scaled_mm` on the float8 values; elsewhere (CPU, other
shapes) the dequantized values are multiplied in the compute dtype, as Keras on torch does.
The float8 tensor cores accumulate with fewer mantissa bits than a float32 matmul: on an H200
outputs differ from the dequantized product by up to ~6e-4 relative (the speed is the point
of float8; the CPU path gives Keras's numbers).
"""

import torch

from keraslike.dtype_policies import QuantizedFloat8DTypePolicy
from keraslike.quantizers import quantizers as q

_SCALES = ("inputs", "kernel", "outputs_grad")
_E4M3_MAX = 448.0
_E5M2_MAX = 57344.0


def build_float8_weights(layer):
    """Creates Keras's six float8 weights on `layer`, in Keras's order."""
    length = getattr(layer.dtype_policy, "amax_history_length",
                     QuantizedFloat8DTypePolicy.default_amax_history_length)
    for prefix in _SCALES:
        layer.add_weight(shape=(), initializer="ones", dtype="float32",
                         name=f"{prefix}_scale", overwrite_with_gradient=True)
        layer.add_weight(shape=(length,), initializer="zeros", dtype="float32",
                         name=f"{prefix}_amax_history", overwrite_with_gradient=True)


def float8_contract(layer, contract, x, kernel, training):
    """`contract(qdq(x), qdq(kernel))` with Keras's float8 delayed scaling (`contract` is
    `torch.matmul` or an einsum); the output gradient goes through float8 e5m2."""
    if training is None:
        training = layer.training
    if kernel.dtype != x.dtype:  # Keras reads the kernel autocast to the compute dtype
        kernel = kernel.to(x.dtype)
    if contract is torch.matmul and _scaled_mm_applies(x, kernel):
        y = _scaled_matmul(x, kernel, layer.inputs_scale, layer.kernel_scale)
    else:
        y = contract(_Float8QDQ.apply(x, layer.inputs_scale),
                     _Float8QDQ.apply(kernel, layer.kernel_scale))
    if training:  # after the forward used the current scales, as Keras's updates are
        with torch.no_grad():
            _update(x, layer.inputs_scale, layer.inputs_amax_history, _E4M3_MAX)
            _update(kernel, layer.kernel_scale, layer.kernel_amax_history, _E4M3_MAX)
    return _Float8GradQDQ.apply(y, layer.outputs_grad_scale, layer.outputs_grad_amax_history,
                                bool(training))


def _update(tensor, scale, history, dtype_max):
    """Keras's delayed scaling: the next scale from the history, then the history rolled."""
    scale.copy_(q.compute_float8_scale(history.max(), scale, dtype_max))
    history.copy_(q.compute_float8_amax_history(tensor, history))


def _scaled_mm_applies(x, kernel):
    if x.device.type != "cuda" or not hasattr(torch, "_scaled_mm"):
        return False
    if x.dtype not in (torch.float32, torch.bfloat16) or kernel.dim() != 2:
        return False
    if torch.cuda.get_device_capability(x.device) < (8, 9):
        return False
    # cuBLASLt's float8 GEMM needs both inner sizes multiples of 16.
    return x.shape[-1] % 16 == 0 and kernel.shape[-1] % 16 == 0


class _ScaledMatmul(torch.autograd.Function):
    """float8 x float8 matmul on the GPU (`torch._scaled_mm`); straight-through gradients."""

    @staticmethod
    def forward(x, kernel, x_scale, k_scale):
        rows = x.reshape(-1, x.shape[-1])
        # Keras's quantize: clip(x / scale) to the float8 range, then cast (round to nearest);
        # its dequantize multiplies by the scale, which `_scaled_mm` does to the product.
        qx = torch.clamp(rows / x_scale.to(x.dtype), -_E4M3_MAX, _E4M3_MAX)
        qk = torch.clamp(kernel / k_scale.to(kernel.dtype), -_E4M3_MAX, _E4M3_MAX)
        qx, qk = qx.to(torch.float8_e4m3fn), qk.to(torch.float8_e4m3fn)
        y = torch._scaled_mm(qx, qk.t().contiguous().t(), scale_a=x_scale.float(),
                             scale_b=k_scale.float(), out_dtype=x.dtype)
        return y.reshape(*x.shape[:-1], kernel.shape[-1])

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0], inputs[1], inputs[2], inputs[3])

    @staticmethod
    def backward(ctx, grad):
        x, kernel, x_scale, k_scale = ctx.saved_tensors
        qx = q.quantize_and_dequantize(x, x_scale, "float8_e4m3fn", x.dtype)
        qk = q.quantize_and_dequantize(kernel, k_scale, "float8_e4m3fn", kernel.dtype)
        grad_x = torch.matmul(grad, qk.t()) if ctx.needs_input_grad[0] else None
        grad_k = None
        if ctx.needs_input_grad[1]:
            grad_k = torch.matmul(qx.reshape(-1, qx.shape[-1]).t(),
                                  grad.reshape(-1, grad.shape[-1]))
        return grad_x, grad_k, None, None


def _scaled_matmul(x, kernel, x_scale, k_scale):
    return _ScaledMatmul.apply(x, kernel, x_scale, k_scale)


class _Float8QDQ(torch.autograd.Function):
    """Quantize-dequantize through float8 e4m3 forward; the gradient passes straight through."""

    @staticmethod
    def forward(x, scale):
        return q.quantize_and_dequantize(x, scale, "float8_e4m3fn", x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class _Float8GradQDQ(torch.autograd.Function):
    """Identity forward; the output gradient goes through float8 e5m2 (and updates its scale)."""

    @staticmethod
    def forward(y, scale, history, training):
        return y.view_as(y)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.scale, ctx.history, ctx.training = inputs[1], inputs[2], inputs[3]

    @staticmethod
    def backward(ctx, grad):
        scale, history = ctx.scale, ctx.history
        with torch.no_grad():
            new_scale = q.compute_float8_scale(history.max(), scale, _E5M2_MAX)
            out = q.quantize_and_dequantize(grad, scale, "float8_e5m2", grad.dtype)
            if ctx.training:
                history.copy_(q.compute_float8_amax_history(grad, history))
                scale.copy_(new_scale)
        return out, None, None, None
