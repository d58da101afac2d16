"""AWQ (activation-aware weight quantization) on torch tensors, as Keras 3.15's `awq.py`.

Calibration records each input channel's largest activation magnitude `x_max`. A grid search
over `ratio` in `0, 1/n, ..., 1` tries per-channel scales `s = max(x_max^ratio, 1e-4)`
(normalized by `sqrt(max(s) * min(s))`): the kernel's columns are multiplied by `s`, quantized
to 4 bits (asymmetric, per output channel or in groups of inputs) and divided back, and the
scales with the smallest activation-weighted error `mean((W - W_hat)^2 * x_max^2)` win (the
first of equal ones). The winner is kept on the device (`torch.where`), so the search never
waits for the host. The layer stores the quantized `W * s` and `s` (`awq_scales`); its call
divides the dequantized kernel's rows by `s`.
"""

import torch

from keraslike.quantizers.gptq import (
    compute_quantization_parameters,
    dequantize_with_sz_map,
    dequantize_with_zero_point,
    quantize_with_zero_point,
)
from keraslike.quantizers.quantizers import pack_int4


def _quantize_4bit(weights, group_size):
    """`(quantized floats, scale, zero, g_idx int64 or None)` of `weights` `(out, in)`."""
    scale, zero, maxq = compute_quantization_parameters(
        weights, bits=4, symmetric=False, per_channel=True, group_size=group_size
    )
    if group_size == -1:
        return quantize_with_zero_point(weights, scale, zero, maxq), scale, zero, None
    g_idx = torch.arange(weights.shape[1], device=weights.device) // group_size
    quantized = quantize_with_zero_point(
        weights, scale.index_select(1, g_idx), zero.index_select(1, g_idx), maxq
    )
    return quantized, scale, zero, g_idx


def awq_search_optimal_scales(weights, activation_magnitudes, *, num_grid_points=20,
                              group_size=-1):
    """The per-input-channel scales `(in_features,)` with the least activation-weighted error.

    Args:
        weights: The transposed kernel `(out_features, in_features)`.
        activation_magnitudes: Largest `|x|` per input channel `(in_features,)`.
        num_grid_points: Grid points past 0 (ratios `i / num_grid_points`).
        group_size: Inputs per quantization group (`-1`: per output channel).
    """
    x_max = activation_magnitudes.to(torch.float32)
    x_max = torch.where(x_max < 1e-8, torch.ones_like(x_max), x_max)
    weight = x_max.square()
    best_loss = best_scales = None
    for i in range(num_grid_points + 1):
        ratio = i / num_grid_points
        scales = torch.ones_like(x_max) if ratio == 0 else torch.pow(x_max, ratio)
        scales = torch.clamp(scales, min=1e-4)
        mean = torch.clamp(torch.sqrt(scales.max() * scales.min()), min=1e-8)
        scales = scales / mean
        scaled = weights * scales
        quantized, scale, zero, g_idx = _quantize_4bit(scaled, group_size)
        if g_idx is None:
            dequantized = dequantize_with_zero_point(quantized, scale, zero)
        else:
            dequantized = dequantize_with_sz_map(quantized, scale, zero, g_idx)
        loss = ((weights - dequantized / scales).square() * weight).mean()
        if best_loss is None:
            best_loss, best_scales = loss, scales
        else:
            better = loss < best_loss
            best_loss = torch.where(better, loss, best_loss)
            best_scales = torch.where(better, scales, best_scales)
    return best_scales


def awq_quantize_matrix(weights_t, activation_magnitudes, *, num_grid_points=20, group_size=-1):
    """AWQ of `weights_t` `(out_features, in_features)`.

    Returns:
        `(quantized floats (out, in), scale (out, groups), zero uint8 (out, groups),
        awq_scales (in,), g_idx float32 (in,))`.
    """
    awq_scales = awq_search_optimal_scales(
        weights_t, activation_magnitudes, num_grid_points=num_grid_points, group_size=group_size
    )
    quantized, scale, zero, g_idx = _quantize_4bit(weights_t * awq_scales, group_size)
    if g_idx is None:
        g_idx = torch.zeros(weights_t.shape[1], dtype=torch.float32, device=weights_t.device)
    return quantized, scale, zero, awq_scales, g_idx.to(torch.float32)


class AWQ:
    """AWQ state of one layer: its activation magnitudes and the final quantization.

    Args:
        layer: A Dense or EinsumDense put in AWQ mode (`layer.quantize("awq", ...)`).
        config: The `AWQConfig`.
    """

    def __init__(self, layer, config):
        self.original_layer = layer
        self.config = config
        kernel = layer._calibration_kernel()
        self.rows, self.columns = kernel.shape
        self.kernel = kernel
        self.num_samples = 0
        self.activation_magnitudes = torch.zeros(self.rows, dtype=torch.float32,
                                                 device=kernel.device)

    def update_activation_magnitudes(self, inputs):
        """Folds a batch of layer inputs (`(..., rows)`) into the per-channel running max.

        Raises:
            ValueError: For a missing or empty input.
        """
        if inputs is None:
            raise ValueError("Input tensor cannot be None.")
        if inputs.numel() == 0:
            raise ValueError("Input tensor cannot be empty.")
        x = inputs.reshape(-1, inputs.shape[-1]).detach().to(torch.float32)
        self.activation_magnitudes = torch.maximum(self.activation_magnitudes,
                                                   x.abs().amax(dim=0))
        self.num_samples += x.shape[0]

    def quantize_layer(self):
        """Quantizes the layer's kernel with AWQ and stores it in the layer (packed 4-bit)."""
        quantized, scale, zero, awq_scales, g_idx = awq_quantize_matrix(
            self.kernel.t().to(torch.float32), self.activation_magnitudes,
            num_grid_points=self.config.num_grid_points, group_size=self.config.group_size,
        )
        packed = pack_int4(quantized.to(torch.uint8), axis=0, dtype="uint8")[0]
        self.original_layer._store_calibrated(packed, scale, zero, g_idx, awq_scales)

    def free(self):
        """Drops the statistics and the kernel reference."""
        self.activation_magnitudes = None
        self.kernel = None
