"""More `keras.ops.nn` ops: adaptive pooling, depth/space rearrangement, fold/unfold, layer and
RMS normalization, PSNR, `polar`, CTC loss and greedy CTC decoding (exported by `ops.nn`)."""

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.backend.dtypes import result_type
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.ctc_beam_search import ctc_beam_search_decode
from keraslike.ops.dispatch import keras_op


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _cast(x, dtype):
    dtype = to_torch_dtype(dtype)
    return x if x.dtype == dtype else x.to(dtype)


def _adaptive_pool(inputs, output_size, data_format, kind):
    inputs = _t(inputs)
    spatial = inputs.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError(
            f"Inputs to adaptive {kind} pooling must have ndim=3, 4 or 5, Received input shape: "
            f"{tuple(inputs.shape)}."
        )
    data_format = config.standardize_data_format(data_format)
    if isinstance(output_size, int):
        size = output_size if spatial == 1 else (output_size,) * spatial
    else:
        size = tuple(output_size)
        if len(size) != spatial:
            raise ValueError(
                f"`output_size` must have {spatial} entries for {spatial}D pooling. "
                f"Received: output_size={output_size}"
            )
    x = inputs.movedim(-1, 1) if data_format == "channels_last" else inputs  # (N, C, *spatial)
    fn = {
        ("average", 1): F.adaptive_avg_pool1d, ("average", 2): F.adaptive_avg_pool2d,
        ("average", 3): F.adaptive_avg_pool3d, ("max", 1): F.adaptive_max_pool1d,
        ("max", 2): F.adaptive_max_pool2d, ("max", 3): F.adaptive_max_pool3d,
    }[(kind, spatial)]
    out = fn(x, size)
    return out.movedim(1, -1) if data_format == "channels_last" else out


@keras_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed output size, whatever the input's spatial size.

    Args:
        inputs: Tensor of rank 3, 4 or 5 (batch, spatial dims and channels).
        output_size: Int or tuple, the spatial size of the output.
        data_format: `"channels_last"` (default `image_data_format()`) or `"channels_first"`.

    Returns:
        The pooled tensor, spatial dims equal to `output_size`.
    """
    return _adaptive_pool(inputs, output_size, data_format, "average")


@keras_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed output size, whatever the input's spatial size.

    Args:
        inputs: Tensor of rank 3, 4 or 5 (batch, spatial dims and channels).
        output_size: Int or tuple, the spatial size of the output.
        data_format: `"channels_last"` (default `image_data_format()`) or `"channels_first"`.

    Returns:
        The pooled tensor, spatial dims equal to `output_size`.
    """
    return _adaptive_pool(inputs, output_size, data_format, "max")


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves channel blocks into spatial blocks: `(N, H, W, C)` -> `(N, H*b, W*b, C/b**2)`."""
    x = _t(x)
    b = block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = x.shape
    x = x.reshape(n, c // (b * b), b, b, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // (b * b), h * b, w * b)


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves spatial blocks into channels: `(N, H, W, C)` -> `(N, H/b, W/b, C*b**2)`."""
    x = _t(x)
    b = block_size
    if data_format == "channels_last":
        n, h, w, c = x.shape
        x = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h // b, w // b, c * b * b)
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // b, b, w // b, b).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


@keras_op
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002 - Keras's name
    """Extracts sliding blocks of a channels-first 4D batch `(N, C, H, W)` into columns
    `(N, C * kh * kw, L)` (`torch.nn.functional.unfold`)."""
    return F.unfold(_t(input), kernel_size, dilation=dilation, padding=padding, stride=stride)


@keras_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse of `unfold`: sums columns `(N, C * kh * kw, L)` back into `(N, C, H, W)`."""
    return F.fold(_t(x), output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


def _axes(axis, ndim):
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(a + ndim if a < 0 else a for a in axes)


def _trailing(axes, ndim):
    return axes == list(range(ndim - len(axes), ndim))


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Layer normalization: `(x - mean) / sqrt(var + epsilon) * gamma + beta` over `axis`.

    Args:
        x: Input tensor.
        gamma: Optional scale, shaped like the normalized axes.
        beta: Optional offset, shaped like the normalized axes.
        axis: Int or list of ints, the axes to normalize over (default -1).
        epsilon: Small float added to the variance (default `keras.config.epsilon()`).

    Returns:
        The normalized tensor, in `x`'s dtype (computed in at least float32).
    """
    if kwargs.pop("rms_scaling", False):
        raise ValueError(
            "`rms_scaling=True` is deprecated in Keras (it scaled by the variance); use "
            "`keras.ops.rms_normalization` instead."
        )
    if kwargs:
        raise TypeError(f"Unexpected keyword arguments: {sorted(kwargs)}")
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    original = x.dtype
    x = _cast(x, result_type(x.dtype, "float32"))
    gamma = None if gamma is None else like(gamma, x).to(x.dtype)
    beta = None if beta is None else like(beta, x).to(x.dtype)
    axes = _axes(axis, x.ndim)
    if _trailing(axes, x.ndim):
        shape = tuple(x.shape[a] for a in axes)
        reshape = lambda v: None if v is None else v.reshape(shape)  # noqa: E731
        out = F.layer_norm(x, shape, reshape(gamma), reshape(beta), epsilon)
    else:
        broadcast = [1] * x.ndim
        for a in axes:
            broadcast[a] = x.shape[a]
        var, mean = torch.var_mean(x, dim=axes, keepdim=True, correction=0)
        out = (x - mean) * torch.rsqrt(var + epsilon)
        if gamma is not None:
            out = out * gamma.reshape(broadcast)
        if beta is not None:
            out = out + beta.reshape(broadcast)
    return out.to(original)


@keras_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """Root-mean-square normalization: `x / sqrt(mean(x**2) + epsilon) * scale` over `axis`.

    Args:
        x: Input tensor.
        scale: Optional scale, shaped like the normalized axes.
        axis: Int or list of ints, the axes to normalize over (default -1).
        epsilon: Small float added to the mean square (default `keras.config.epsilon()`).

    Returns:
        The normalized tensor, in `x`'s dtype (computed in at least float32).
    """
    epsilon = config.epsilon() if epsilon is None else epsilon
    x = _t(x)
    original = x.dtype
    x = _cast(x, result_type(x.dtype, "float32"))
    scale = None if scale is None else like(scale, x).to(x.dtype)
    axes = _axes(axis, x.ndim)
    if x.ndim and _trailing(axes, x.ndim):
        shape = tuple(x.shape[a] for a in axes)
        out = F.rms_norm(x, shape, None if scale is None else scale.reshape(shape), epsilon)
    else:
        if x.ndim == 0:
            x = x.reshape(1)
        out = x * torch.rsqrt(torch.mean(x.square(), dim=axes, keepdim=True) + epsilon)
        if scale is not None:
            out = out * scale
    return out.to(original)


@keras_op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio between two images (a scalar, in dB, over all elements).

    Args:
        x1: First image(s).
        x2: Second image(s), same shape as `x1`.
        max_val: The largest possible pixel value (e.g. 1.0 or 255).
    """
    x1, x2 = _t(x1), _t(x2)
    if x1.shape != x2.shape:
        raise ValueError(
            f"Input shapes {tuple(x1.shape)} and {tuple(x2.shape)} must match for PSNR "
            "calculation. "
        )
    max_val = to_tensor(max_val, dtype=x1.dtype, device=x1.device)
    mse = torch.mean((x1 - x2) ** 2)
    return 20 * torch.log10(max_val) - 10 * torch.log10(mse)


@keras_op
def polar(abs_, angle):
    """The complex numbers with magnitude `abs_` and phase `angle` (radians)."""
    abs_ = _t(abs_)
    angle = like(angle, abs_)
    return torch.complex(abs_ * torch.cos(angle), abs_ * torch.sin(angle))


@keras_op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss of each sequence in the batch.

    Args:
        target: Integer labels `(batch, max_label_length)`.
        output: Logits `(batch, max_time, num_classes)` (log-softmax is applied here).
        target_length: `(batch,)` lengths of the labels.
        output_length: `(batch,)` lengths of the outputs.
        mask_index: The class index of the blank label (default 0).

    Returns:
        `(batch,)` losses.
    """
    output = _t(output)
    output = _cast(output, result_type(output.dtype, "float32"))
    target = like(target, output)
    target_length = like(target_length, output)
    output_length = like(output_length, output)
    log_probs = F.log_softmax(output.transpose(0, 1), dim=-1)  # (time, batch, classes)
    return F.ctc_loss(
        log_probs, target, output_length, target_length, blank=mask_index, reduction="none"
    )


@keras_op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decodes CTC outputs, greedily or by beam search.

    Greedy: the best class per step, repeats merged, blanks dropped. Beam search: the
    `top_paths` most probable label sequences (alignments summed, `inputs` read as logits), as
    Keras decodes them; it reads the sequence lengths on the host.

    Args:
        inputs: Scores `(batch, max_time, num_classes)` (logits or probabilities).
        sequence_lengths: `(batch,)` lengths of the sequences.
        strategy: `"greedy"` or `"beam_search"`. Defaults to `"greedy"`.
        beam_width: Beam width for beam search. Defaults to `100`.
        top_paths: Number of paths to return for beam search. Defaults to `1`.
        merge_repeated: Whether repeated classes are merged (greedy).
        mask_index: The class index of the blank label (default 0; `None` means the last).

    Returns:
        `(decoded, scores)`: `decoded` `(top_paths, batch, max_time)` int32, padded with -1
        (`top_paths` is 1 for greedy); `scores` `(batch, top_paths)`: for greedy the negative
        sum of the best scores, for beam search each path's log-probability.
    """
    inputs = _t(inputs)
    inputs = _cast(inputs, result_type(inputs.dtype, "float32"))
    if strategy == "beam_search":
        lengths = like(sequence_lengths, inputs)
        return ctc_beam_search_decode(inputs, lengths, beam_width, top_paths, mask_index)
    if strategy != "greedy":
        raise ValueError(
            f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'."
        )
    batch, time, classes = inputs.shape
    if mask_index is None:
        mask_index = classes - 1
    lengths = like(sequence_lengths, inputs).to(torch.int32)
    scores, indices = torch.max(inputs, dim=-1)  # (batch, time)
    indices = indices.to(torch.int32)
    beyond = torch.arange(time, device=inputs.device)[None, :] >= lengths[:, None]
    indices = torch.where(beyond, mask_index, indices)
    scores = torch.where(beyond, 0.0, scores)
    if merge_repeated:
        repeat = F.pad(indices[:, 1:] == indices[:, :-1], (1, 0))
        indices = torch.where(repeat, mask_index, indices)
    dropped = indices == mask_index
    indices = torch.where(dropped, -1, indices)
    # Move the kept labels to the front, in order (a stable sort on "dropped").
    order = torch.where(dropped, time, torch.arange(time, device=inputs.device)[None, :])
    indices = torch.take_along_dim(indices, torch.argsort(order, dim=-1, stable=True), dim=-1)
    return indices.unsqueeze(0), -scores.sum(dim=1, keepdim=True)
