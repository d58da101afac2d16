"""GPTQ on torch tensors: Hessian accumulation and column-wise quantization with error feedback.

The numbers are Keras 3.15's (`keras/src/quantizers/gptq.py`): the Hessian is the running mean
of `2 X^T X` over calibration rows; dead inputs get a unit diagonal, the diagonal is damped by
`hessian_damping * mean(diag)`, and the inverse Hessian (`torch.linalg.inv`, not its Cholesky
factor) drives the updates. Columns are quantized in blocks of 128: within a block each column's
error `(w - deq(q)) / Hinv[j, j]` is pushed into the block's later columns, and a finished block
pushes its errors into all later columns with one matmul. Group scales are computed from the
weights as they stand at the start of the current block, as Keras does. Everything stays on the
kernel's device; the column loop does no host syncs.
"""

import torch

from keraslike.quantizers.quantizers import pack_int4


def compute_quantization_parameters(
    x, *, bits, symmetric=False, per_channel=False, group_size=-1, epsilon=0.0, signed=False
):
    """Scale and zero point of an `(out_features, in_features)` float tensor (Keras's rules).

    Args:
        x: Float tensor `(out_features, in_features)`.
        bits: Number of bits of the quantized values.
        symmetric: Whether the range is made symmetric around zero.
        per_channel: One scale per row (else one for the whole tensor, tiled per row).
        group_size: Columns per group when `per_channel` (`-1`: one group).
        epsilon: Added to `max - min` before the scale is taken.
        signed: Zero points in `[-2^(bits-1), 2^(bits-1) - 1]` (int8) instead of `[0, 2^bits - 1]`
            (uint8).

    Returns:
        `(scale, zero, maxq)`: `scale` float `(out_features, groups)`, `zero` uint8 (int8 when
        `signed`) of the same shape, and `maxq` (`2^bits - 1`) as a 0-d float tensor.

    Raises:
        ValueError: For a tensor of rank < 2 or an empty one.
    """
    if x is None or x.ndim < 2:
        raise ValueError(
            f"Input weight tensor must have a rank of at least 2, but got rank "
            f"{None if x is None else x.ndim}."
        )
    if x.numel() == 0:
        raise ValueError("Input tensor 'x' cannot be empty.")
    out_features, in_features = x.shape[0], x.shape[1]
    n_groups = -(-in_features // group_size) if per_channel and group_size > 0 else 1
    if n_groups > 1:
        pad = (-in_features) % group_size
        if pad:
            x = torch.nn.functional.pad(x, (0, pad))
        grouped = x.reshape(out_features, n_groups, group_size)
        min_values, max_values = grouped.amin(dim=2), grouped.amax(dim=2)
    else:
        flat = x.reshape(out_features, -1) if per_channel else x.reshape(1, -1)
        min_values, max_values = flat.amin(dim=1), flat.amax(dim=1)
    if symmetric:
        max_abs = torch.maximum(min_values.abs(), max_values)
        min_values = torch.where(min_values < 0, -max_abs, min_values)
        max_values = max_abs
    flat_range = min_values == max_values
    min_values = torch.where(flat_range, min_values - 1, min_values)
    max_values = torch.where(flat_range, max_values + 1, max_values)
    maxq = torch.tensor(2**bits - 1, dtype=x.dtype, device=x.device)
    span = max_values - min_values
    if epsilon > 0:
        span = span + epsilon
    scale = span / maxq
    scale = torch.where(scale <= 0, torch.full_like(scale, 1e-8), scale)
    if signed:
        qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        if symmetric:
            zero = torch.full_like(scale, float((2**bits) / 2 + qmin))
        else:
            zero = torch.round(-min_values / scale) + qmin
        zero = zero.clamp(qmin, qmax)
    elif symmetric:
        zero = torch.full_like(scale, float(2**bits / 2))
    else:
        zero = torch.round(-min_values / scale)
    if n_groups == 1:
        scale, zero = scale.reshape(-1, 1), zero.reshape(-1, 1)
        if not per_channel:
            scale, zero = scale.expand(out_features, 1), zero.expand(out_features, 1)
    # Keras casts with the backend's cast: out-of-range values wrap as torch's `.to` does.
    return scale.contiguous(), zero.to(torch.int8 if signed else torch.uint8).contiguous(), maxq


def quantize_with_zero_point(x, scale, zero, maxq):
    """`clip(round(x / scale + zero), 0, maxq)` (a zero scale counts as 1e-8), as floats."""
    safe = torch.where(scale == 0, torch.full_like(scale, 1e-8), scale)
    return torch.clamp(torch.round(x / safe + zero.to(scale.dtype)), min=0).minimum(maxq)


def dequantize_with_zero_point(q, scale, zero):
    """`scale * (q - zero)`."""
    return scale * (q - zero.to(scale.dtype))


def dequantize_with_sz_map(weights, scale, zero, g_idx):
    """`(weights - zero[:, g]) * scale[:, g]` with `g = int(g_idx)` per column.

    Args:
        weights: `(out_features, in_features)` quantized values.
        scale, zero: `(out_features, groups)`.
        g_idx: `(in_features,)` group of each column (float, truncated).
    """
    groups = g_idx.to(torch.int64)
    scales = scale.index_select(1, groups)
    zeros = zero.index_select(1, groups).to(scales.dtype)
    return (weights.to(scales.dtype) - zeros) * scales


def _stable_descending(metric):
    n = metric.shape[0]
    jitter = torch.arange(n, device=metric.device, dtype=torch.float32) / float(n)
    return torch.argsort(-(metric + jitter * 1e-12), stable=True)


def gptq_quantize_matrix(
    weights_t, inv_hessian, find_params, *, blocksize=128, group_size=-1,
    activation_order=False, order_metric=None,
):
    """GPTQ's error-compensating quantization of `weights_t` `(out_features, in_features)`.

    Args:
        weights_t: The transposed float kernel `(out_features, in_features)`.
        inv_hessian: `(in_features, in_features)` inverse of the damped Hessian.
        find_params: `tensor -> (scale, zero, maxq)` for a slice of columns.
        blocksize: Columns per block of lazy updates.
        group_size: Columns sharing a scale (`-1`: one group).
        activation_order: Quantize the columns in descending order of `order_metric`.
        order_metric: Importance of each column (default: `1 / diag(inv_hessian)`).

    Returns:
        `(quantized int32 (out, in), scale (out, groups), zero (out, groups), g_idx (in,) float32)`.
    """
    in_features = weights_t.shape[1]
    perm = None
    if activation_order:
        if order_metric is None:
            order_metric = 1.0 / (torch.diagonal(inv_hessian) + 1e-12)
        else:
            order_metric = order_metric.to(torch.float32)
            order_metric = torch.where(
                torch.isfinite(order_metric), order_metric, torch.zeros_like(order_metric)
            )
        perm = _stable_descending(order_metric)
        weights_t = weights_t.index_select(1, perm)
        inv_hessian = inv_hessian.index_select(0, perm).index_select(1, perm)
    buffer = weights_t.clone()
    quantized = torch.zeros(buffer.shape, dtype=torch.int32, device=buffer.device)
    scales, zeros = [], []
    group = in_features if group_size == -1 else group_size
    params, params_start = None, -1
    for start in range(0, in_features, blocksize):
        end = min(start + blocksize, in_features)
        block = buffer[:, start:end].clone()  # (out, b): updated column by column
        errors = torch.zeros_like(block)
        block_inv = inv_hessian[start:end, start:end]
        for j in range(end - start):
            column = start + j
            group_start = (column // group) * group
            if group_start != params_start:
                # Keras takes a group's parameters from the weights as they stood at the start
                # of the current block (intra-block updates are not in `buffer` yet).
                params = find_params(buffer[:, group_start:min(group_start + group, in_features)])
                scales.append(params[0])
                zeros.append(params[1])
                params_start = group_start
            scale, zero, maxq = params
            w = block[:, j]
            q = quantize_with_zero_point(w.unsqueeze(1), scale, zero, maxq)
            quantized[:, column] = q[:, 0].to(torch.int32)
            err = (w - dequantize_with_zero_point(q, scale, zero)[:, 0]) / block_inv[j, j]
            errors[:, j] = err
            if j < end - start - 1:
                block[:, j + 1:] -= torch.outer(err, block_inv[j, j + 1:])
        if end < in_features:
            buffer[:, end:] -= torch.matmul(errors, inv_hessian[start:end, end:])
    g_idx = (torch.arange(in_features, device=buffer.device, dtype=torch.int32) / group).to(
        torch.float32
    )
    if perm is not None:
        inverse = torch.argsort(perm, stable=True)
        g_idx = g_idx.index_select(0, inverse)
        quantized = quantized.index_select(1, inverse)
    return quantized, torch.cat(scales, dim=1), torch.cat(zeros, dim=1), g_idx


class GPTQ:
    """GPTQ state of one layer: its Hessian estimate and the final quantization.

    Args:
        layer: A Dense or EinsumDense layer put in GPTQ mode (`layer.quantize("gptq", ...)`);
            it exposes `_calibration_kernel()` (the float kernel as `(rows, columns)`) and
            `_store_calibrated(...)`.
        config: The `GPTQConfig`.
    """

    def __init__(self, layer, config):
        self.original_layer = layer
        self.config = config
        kernel = layer._calibration_kernel()
        self.rows, self.columns = kernel.shape
        self.kernel = kernel
        self.num_samples = 0
        self.hessian = torch.zeros(
            (self.rows, self.rows), dtype=torch.float32, device=kernel.device
        )

    def update_hessian_with_batch(self, inputs):
        """Folds a batch of layer inputs (`(..., rows)`) into the running Hessian mean.

        Raises:
            ValueError: For a missing, empty or rank-1 input, or one with the wrong feature size.
        """
        if inputs is None:
            raise ValueError("Input tensor cannot be None.")
        if inputs.ndim < 2:
            raise ValueError(f"Input tensor must have rank >= 2 (got rank {inputs.ndim}).")
        if inputs.numel() == 0:
            raise ValueError("Input tensor cannot be empty.")
        x = inputs.reshape(-1, inputs.shape[-1]).detach().to(torch.float32)
        if x.shape[-1] != self.rows:
            raise ValueError(
                f"Hessian dimensions ({self.rows}) do not match input features ({x.shape[-1]}) "
                f'in layer "{self.original_layer.name}".'
            )
        previous, new = self.num_samples, x.shape[0]
        total = torch.tensor(previous + new, dtype=torch.float32, device=x.device)
        gram = torch.matmul(x.t(), x)
        gram = (gram + gram.t()) / 2.0
        if previous > 0:
            self.hessian = self.hessian * (torch.tensor(float(previous), device=x.device) / total)
        self.hessian = self.hessian + (2.0 / total) * gram
        self.num_samples = previous + new

    def damped_hessian(self):
        """The Hessian with dead inputs given a unit diagonal and the diagonal damped."""
        hessian = self.hessian
        diagonal = torch.diagonal(hessian)
        dead = diagonal == 0.0
        diagonal = torch.where(dead, torch.ones_like(diagonal), diagonal)
        damped = hessian + torch.diag(dead.to(hessian.dtype))
        diagonal = diagonal + self.config.hessian_damping * diagonal.mean()
        return damped - torch.diag(torch.diagonal(damped)) + torch.diag(diagonal)

    def quantize_and_correct_layer(self, blocksize=128):
        """Quantizes the layer's kernel with GPTQ and stores it in the layer (packing 4-bit)."""
        config = self.config
        hessian = self.damped_hessian()
        inverse = torch.linalg.inv(hessian)

        def find_params(x):
            return compute_quantization_parameters(
                x, bits=config.weight_bits, symmetric=config.symmetric,
                per_channel=config.per_channel, group_size=config.group_size,
            )

        quantized, scale, zero, g_idx = gptq_quantize_matrix(
            self.kernel.t().to(torch.float32), inverse, find_params, blocksize=blocksize,
            group_size=config.group_size, activation_order=config.activation_order,
            order_metric=torch.diagonal(hessian),
        )
        quantized = quantized.to(torch.uint8)
        if config.weight_bits == 4:
            quantized = pack_int4(quantized, axis=0, dtype="uint8")[0]
        self.original_layer._store_calibrated(quantized, scale, zero, g_idx)

    def free(self):
        """Drops the Hessian and the kernel reference."""
        self.hessian = None
        self.kernel = None
