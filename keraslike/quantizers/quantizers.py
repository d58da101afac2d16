"""Quantization functions and quantizers on torch tensors, as `keras.quantizers` has them.

Numbers follow Keras 3: abs-max scales are `value_range[1] / (max|x| + epsilon)` (a quantized value
is `round(x * scale)`, dequantized `q / scale`); int4 values are packed two per int8 byte, the
first of each pair in the low nibble; float8 scales follow Transformer Engine's delayed scaling.
"""

import math

import numpy as np
import torch

from keraslike.backend import config
from keraslike.graph.shape_inference import dtype_name, torch_dtype

_FLOAT8_MAX = {"float8_e4m3fn": 448.0, "float8_e5m2": 57344.0}


def _tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return torch.as_tensor(array)


def _axes(axis, ndim):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


class Quantizer:
    """Base class of quantizers: a callable turning a float tensor into a quantized one.

    Args:
        output_dtype: The dtype of the quantized values (`"int8"`).
    """

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        """Computes a quantized output from an input tensor."""
        return x

    @classmethod
    def from_config(cls, config):
        """Creates a quantizer from the output of `get_config`."""
        return cls(**config)

    def get_config(self):
        """Returns the quantizer's constructor arguments (subclasses implement it)."""
        raise NotImplementedError(f"{self} does not implement get_config()")


def abs_max_quantize(
    inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=None, to_numpy=False
):
    """Quantizes `inputs` with an absolute-maximum scale along `axis`.

    Args:
        inputs: Float tensor (or array) to quantize.
        axis: Axis (or axes) reduced to compute the scale (kept with size 1).
        value_range: `(min, max)` of the quantized values.
        dtype: Dtype of the quantized values.
        epsilon: Added to the absolute maximum (default `keras.config.epsilon()`).
        to_numpy: Compute on the host (saves device memory when quantizing big weights).

    Returns:
        `(quantized, scale)`: `quantized = clip(round(inputs * scale))`, with
        `scale = value_range[1] / (max|inputs| + epsilon)` in the dtype of `inputs`.
    """
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _tensor(inputs)
    original = x.dtype
    if to_numpy:
        x = x.detach().cpu()
    dims = _axes(axis, x.ndim)
    scale = value_range[1] / (torch.amax(x.abs(), dim=dims, keepdim=True) + epsilon)
    scale = scale.to(original)
    outputs = torch.clamp(torch.round(x * scale), value_range[0], value_range[1])
    return outputs.to(torch_dtype(dtype)), scale


def abs_max_quantize_grouped_with_zero_point(
    inputs, block_size, value_range=(-8, 7), dtype="int8", epsilon=None, to_numpy=False
):
    """Asymmetric quantization of a 2-D `(input_dim, output_dim)` tensor in groups of rows.

    Each group of `block_size` rows gets, per column, a scale and a zero point.

    Args:
        inputs: Float tensor `(input_dim, output_dim)`.
        block_size: Rows per group (the last group may be shorter).
        value_range: `(qmin, qmax)` of the quantized values.
        dtype: Dtype of the quantized values.
        epsilon: Added to the range before dividing (default `keras.config.epsilon()`).
        to_numpy: Compute on the host.

    Returns:
        `(quantized (input_dim, output_dim), scale (n_groups, output_dim),
        zero_point (n_groups, output_dim) int8)`; dequantize with `(q - zero) * scale`.
    """
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _tensor(inputs)
    if to_numpy:
        x = x.detach().cpu()
    original = x.dtype
    input_dim, output_dim = x.shape
    n_groups = math.ceil(input_dim / block_size)
    qmin, qmax = value_range
    padded = n_groups * block_size
    if padded > input_dim:
        x_padded = torch.cat([x, x.new_zeros(padded - input_dim, output_dim)], dim=0)
    else:
        x_padded = x
    groups = x_padded.reshape(n_groups, block_size, output_dim)
    low = groups.amin(dim=1, keepdim=True)
    high = groups.amax(dim=1, keepdim=True)
    scale = (high - low + epsilon) / (qmax - qmin)
    zero = torch.clamp(torch.round(-low / scale) + qmin, qmin, qmax)
    outputs = torch.clamp(torch.round(groups / scale) + zero, qmin, qmax).to(torch_dtype(dtype))
    outputs = outputs.reshape(padded, output_dim)[:input_dim]
    return outputs, scale.squeeze(1).to(original), zero.squeeze(1).to(torch.int8)


def dequantize_grouped_with_zero_point(quantized, scale, zero, block_size):
    """Inverse of `abs_max_quantize_grouped_with_zero_point`: `(q - zero) * scale` per group."""
    group = torch.arange(quantized.shape[0], device=quantized.device) // block_size
    return (quantized.to(scale.dtype) - zero.to(scale.dtype)[group]) * scale[group]


class AbsMaxQuantizer(Quantizer):
    """Abs-max quantizer: `round(x * value_range[1] / max|x|)` along an axis.

    Args:
        axis: Deprecated default axis (give `axis` when calling instead).
        value_range: `(min, max)` of the quantized values (`(-127, 127)`).
        epsilon: Added to the absolute maximum (default `keras.config.epsilon()`).
        output_dtype: Dtype of the quantized values (`"int8"`).

    Raises:
        ValueError: For an int8 output with a range outside `[-128, 127]`.
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=None, output_dtype="int8"):
        Quantizer.__init__(self, output_dtype=output_dtype)
        if axis is not None:
            axis = (axis,) if isinstance(axis, int) else tuple(axis)
        self.axis = axis
        self.value_range = tuple(value_range)
        self.epsilon = config.epsilon() if epsilon is None else epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "Quantizer with output_dtype='int8' requires value_range to be within the "
                f"interval [-128, 127]. Received: value_range={value_range}"
            )

    def __call__(self, x, axis=None, to_numpy=False):
        """Returns `(quantized, scale)` of `x` along `axis` (the constructor's, else -1)."""
        if axis is None:
            axis = self.axis if self.axis is not None else -1
        return abs_max_quantize(
            x, axis, self.value_range, self.output_dtype, self.epsilon, to_numpy
        )

    def get_config(self):
        config = {
            "value_range": self.value_range,
            "epsilon": self.epsilon,
            "output_dtype": self.output_dtype,
        }
        if self.axis is not None:
            config["axis"] = self.axis
        return config


def fake_quant_with_min_max_vars(
    inputs, min_vals, max_vals, num_bits=8, narrow_range=False, axis=None
):
    """Quantizes and dequantizes `inputs` into `[min_vals, max_vals]` (per tensor or channel).

    The gradient with respect to `inputs` passes straight through inside the range and is zero
    outside it, as TensorFlow's `fake_quant_with_min_max_vars` does.

    Args:
        inputs: Float tensor.
        min_vals, max_vals: Scalars, or per-channel tensors along `axis`.
        num_bits: Bit width (8).
        narrow_range: Use `[1, 2^bits - 1]` instead of `[0, 2^bits - 1]`.
        axis: Channel axis for per-channel ranges, or `None`.

    Returns:
        The fake-quantized tensor, dtype of `inputs`.
    """
    x = _tensor(inputs)
    low = _tensor(min_vals).to(torch.float32)
    high = _tensor(max_vals).to(torch.float32)
    if axis is not None:
        axis = axis % x.ndim
        shape = [1] * x.ndim
        shape[axis] = -1
        low, high = low.reshape(shape), high.reshape(shape)
    quant_max = (1 << int(num_bits)) - 1
    quant_min = 1 if narrow_range else 0
    scale = (high - low) / (quant_max - quant_min)
    inv_scale = (quant_max - quant_min) / (high - low)
    zero = torch.round(torch.clamp(quant_min - low / scale, quant_min, quant_max))
    nudged_min = (quant_min - zero) * scale
    nudged_max = (quant_max - zero) * scale
    xf = x.to(torch.float32)
    clamped = torch.minimum(torch.maximum(xf, nudged_min), nudged_max)
    quant_zero = torch.floor(-nudged_min * inv_scale + 0.5)
    result = torch.floor((clamped - nudged_min) * inv_scale - quant_zero + 0.5) * scale
    # Straight-through: the value of `result`, the gradient of `clamped`.
    return (clamped + (result - clamped).detach()).to(x.dtype)


def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next float8 scale from the recent absolute maximum (Transformer Engine's rule).

    Returns `1 / (dtype_max / amax / 2^margin)`, keeping `scale` where `amax` is 0 or not finite.
    """
    amax, scale = _tensor(amax), _tensor(scale)
    factor = (dtype_max / amax) / (2**margin)
    inverse = torch.reciprocal(scale)
    factor = torch.where(amax > 0.0, factor, inverse)
    factor = torch.where(torch.isfinite(amax), factor, inverse)
    return torch.reciprocal(factor)


def compute_float8_amax_history(x, amax_history):
    """Rolls `amax_history` by one and puts `max|x|` first."""
    amax_history = _tensor(amax_history)
    update = torch.amax(_tensor(x).abs()).to(amax_history.dtype)
    rolled = torch.roll(amax_history, shifts=-1)
    return torch.cat([update.reshape(1), rolled[1:]])


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """Rounds `inputs / scale` to `quantized_dtype` (a float8 dtype) and multiplies back.

    Args:
        inputs: Float tensor.
        scale: Scalar scale.
        quantized_dtype: `"float8_e4m3fn"` or `"float8_e5m2"`.
        compute_dtype: Dtype of the result.
    """
    compute = torch_dtype(compute_dtype)
    target = torch_dtype(quantized_dtype)
    limit = _FLOAT8_MAX.get(quantized_dtype, torch.finfo(target).max)
    scale = _tensor(scale).to(compute)
    x = torch.clamp(_tensor(inputs) / scale, -limit, limit).to(target)
    return x.to(compute) * scale


def pack_int4(arr, axis=0, dtype="int8"):
    """Packs int4 values (int8 in `[-8, 7]`) two per byte along `axis`.

    The first of each pair goes to the low nibble; an odd length is padded with a zero.

    Args:
        arr: `int8` (or `uint8`) tensor of int4 values.
        axis: The axis to pack.
        dtype: `"int8"` or `"uint8"`, the dtype of `arr` and of the result.

    Returns:
        `(packed, packed_shape, orig_len)`.

    Raises:
        ValueError: For another `dtype`. TypeError: When `arr` is not of `dtype`.
    """
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    x = _tensor(arr)
    if dtype_name(x.dtype) != dtype:
        raise TypeError(f"Expected {dtype} tensor for packing, got {dtype_name(x.dtype)}.")
    axis = axis % x.ndim
    x = x.movedim(axis, 0)
    n = x.shape[0]
    if n % 2:
        x = torch.cat([x, x.new_zeros((1,) + tuple(x.shape[1:]))], dim=0)
    low = x[0::2].to(torch.int16) & 0x0F
    high = x[1::2].to(torch.int16) & 0x0F
    packed = (low | (high << 4)).to(torch.uint8)  # wraps like numpy's int8 arithmetic
    packed = packed.view(torch.int8) if dtype == "int8" else packed
    packed = packed.movedim(0, axis).contiguous()
    return packed, tuple(packed.shape), n


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """Unpacks what `pack_int4` packed: `orig_len` int4 values along `axis`.

    Args:
        packed: `int8`/`uint8` tensor of packed nibbles.
        orig_len: Length of `axis` before packing.
        axis: The packed axis.
        dtype: `"int8"` for signed values in `[-8, 7]`, `"uint8"` for `[0, 15]`.

    Raises:
        ValueError: For another `dtype`. TypeError: When `packed` is not 8-bit.
    """
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    x = _tensor(packed)
    if x.dtype not in (torch.int8, torch.uint8):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {x.dtype}")
    axis = axis % x.ndim
    as_bytes = x.view(torch.uint8) if x.dtype == torch.int8 else x
    low = as_bytes & 0x0F
    high = as_bytes >> 4
    if dtype == "int8":  # nibble n in [0, 15] -> (n ^ 8) - 8 in [-8, 7]
        low = (low ^ 8).view(torch.int8) - 8
        high = (high ^ 8).view(torch.int8) - 8
    # Interleave along `axis`: the low nibble first, as `pack_int4` packed them.
    unpacked = torch.stack([low, high], dim=axis + 1).flatten(axis, axis + 1)
    return unpacked.narrow(axis, 0, orig_len).to(torch_dtype(dtype))
