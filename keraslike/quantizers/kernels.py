"""Quantized matmuls on torch kernels, with Keras's numbers.

`int8_linear` runs an int8 x int8 -> int32 matmul with `torch._int_mm` (CPU: any shape; CUDA: the
shapes cuBLASLt takes), else an exact float matmul of the integer values, then divides by the
scales as Keras does: `(q_x @ q_w) / (inputs_scale * kernel_scale)`. Gradients reach the inputs
through the dequantized kernel (the straight-through rule of Keras's custom gradients); quantized
weights get none.
"""

import torch

from keraslike.quantizers.quantizers import unpack_int4

def _int_mm_ok(a, b):
    if a.device.type == "cpu":
        return True
    if a.device.type != "cuda":
        return False
    m, k = a.shape
    n = b.shape[1]
    return m > 16 and k >= 16 and k % 8 == 0 and n % 8 == 0


def int_matmul(a, b):
    """`a @ b` for int8 `a (m, k)` and `b (k, n)`, as int32 (exact)."""
    if _int_mm_ok(a, b):
        try:
            return torch._int_mm(a, b)
        except RuntimeError:  # a shape or layout this build's kernel refuses
            pass
    # float64 holds every int8 x int8 sum of up to 2^37 terms exactly.
    dtype = torch.float64 if a.device.type == "cpu" else torch.float32
    return torch.matmul(a.to(dtype), b.to(dtype)).to(torch.int32)


class _Int8Linear(torch.autograd.Function):
    @staticmethod
    def forward(x, weight, scale, inputs_quantizer):
        # weight: int8 (out, in); scale: (out,), Keras's convention (float = q / scale).
        if inputs_quantizer is None:  # weight-only int8: float inputs times the int8 values
            y = torch.matmul(x, weight.t().to(x.dtype))
            return y / scale.to(x.dtype)
        q, x_scale = inputs_quantizer(x, axis=-1)
        flat = q.reshape(-1, q.shape[-1])
        y = int_matmul(flat, weight.t()).reshape(x.shape[:-1] + (weight.shape[0],))
        return y.to(x.dtype) / (scale.to(x.dtype) * x_scale)

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, weight, scale, _ = inputs
        ctx.save_for_backward(weight, scale)

    @staticmethod
    def backward(ctx, grad):
        weight, scale = ctx.saved_tensors
        float_weight = weight.to(grad.dtype) / scale.to(grad.dtype)[:, None]
        return torch.matmul(grad, float_weight), None, None, None


def int8_linear(x, weight, scale, inputs_quantizer=None):
    """`x @ dequantize(weight).T` for an int8 `weight (out, in)` with per-output `scale`.

    Args:
        x: Float inputs `(..., in)`.
        weight: int8 `(out, in)` (torch's Linear layout).
        scale: `(out,)`, Keras's convention (`float_weight = weight / scale`).
        inputs_quantizer: When given (e.g. `AbsMaxQuantizer()`), the inputs are quantized per
            row to int8 too (dynamic activation quantization) and the matmul runs in int8;
            `None` keeps float inputs (weight-only int8).

    Returns:
        `(..., out)` in `x`'s dtype.
    """
    return _Int8Linear.apply(x, weight, scale, inputs_quantizer)


def grouped_int4_kernel(packed, scale, zero, block):
    """The float `(in, units)` kernel of int4 `packed (in, ceil(units/2))` in groups of `block` rows.

    `float = (q - zero[g]) * scale[g]`, `g = row // block` (Keras's `g_idx` is always that, so
    groups are contiguous and broadcast, no gathers).
    """
    unpacked = unpack_int4(packed, scale.shape[-1], axis=-1).to(scale.dtype)
    in_dim, groups = unpacked.shape[0], scale.shape[0]
    padded = torch.nn.functional.pad(unpacked, (0, 0, 0, groups * block - in_dim))
    out = (padded.view(groups, block, -1) - zero.to(scale.dtype)[:, None]) * scale[:, None]
    return out.reshape(groups * block, -1)[:in_dim]


class _GroupedInt4Linear(torch.autograd.Function):
    @staticmethod
    def forward(x, packed, scale, zero, block):
        return torch.matmul(x, grouped_int4_kernel(packed, scale, zero, block).to(x.dtype))

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.block = inputs[4]
        ctx.save_for_backward(*inputs[1:4])

    @staticmethod
    def backward(ctx, grad):
        kernel = grouped_int4_kernel(*ctx.saved_tensors, ctx.block).to(grad.dtype)
        return torch.matmul(grad, kernel.t()), None, None, None, None


def grouped_int4_linear(x, packed, scale, zero, block):
    """`x @ grouped_int4_kernel(...)`: dequantize, then matmul; gradients reach `x` only."""
    return _GroupedInt4Linear.apply(x, packed, scale, zero, block)
