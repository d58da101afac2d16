"""Sampling images at computed positions: `map_coordinates` and the projective warp behind
`affine_transform` and `perspective_transform` (all images of a batch sampled at once)."""

import functools
import itertools
import operator

import torch

from keraslike.backend import config
from keraslike.ops.core import like, to_tensor
from keraslike.ops.dispatch import keras_op

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _fix_index(index, size, fill_mode):
    if fill_mode in ("constant", "nearest"):
        return torch.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "mirror":
        period = size - 1
        return (torch.remainder(index + period, 2 * period) - period).abs() if period else index * 0
    # reflect: mirror of the doubled grid
    period = 2 * size
    folded = torch.remainder(index, period)
    return torch.where(folded >= size, period - 1 - folded, folded)


def _nodes(coordinate, order):
    if order == 0:
        rounded = coordinate if not coordinate.is_floating_point() else torch.round(coordinate)
        return [(rounded.to(torch.int64), 1)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.to(torch.int64)
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


@keras_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """Samples `inputs` at `coordinates` (one coordinate tensor per axis of `inputs`).

    Args:
        inputs: The N-D tensor to sample.
        coordinates: A sequence of N tensors (or an `(N, ...)` tensor) of positions.
        order: 0 (nearest) or 1 (linear).
        fill_mode: `"constant"`, `"nearest"`, `"wrap"`, `"mirror"` or `"reflect"`: how positions
            outside `inputs` are treated.
        fill_value: The value outside `inputs` for `fill_mode="constant"`.

    Returns:
        The sampled values, shaped like each coordinate tensor, in `inputs`' dtype.
    """
    inputs = _t(inputs)
    coordinates = [like(c, inputs) for c in coordinates]
    if len(coordinates) != inputs.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. Received inputs "
            f"with shape: {tuple(inputs.shape)} and coordinate leading dim of {len(coordinates)}"
        )
    if coordinates[0].ndim < 1:
        raise ValueError(
            "Invalid coordinates rank: expected at least rank 2. Received input with shape: "
            f"{(len(coordinates),) + tuple(coordinates[0].shape)}"
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected one of {set(_FILL_MODES)}. "
            f"Received: fill_mode={fill_mode}"
        )
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1")
    per_axis = []
    for coordinate, size in zip(coordinates, inputs.shape):
        per_axis.append([
            (_fix_index(index, size, fill_mode), (index >= 0) & (index < size), weight)
            for index, weight in _nodes(coordinate, order)
        ])
    total = 0
    for combination in itertools.product(*per_axis):
        indices, valid, weights = zip(*combination)
        values = inputs[indices]
        if fill_mode == "constant":
            values = torch.where(functools.reduce(operator.and_, valid), values, fill_value)
        total = total + functools.reduce(operator.mul, weights) * values
    if not inputs.dtype.is_floating_point and torch.is_tensor(total) and total.is_floating_point():
        total = torch.round(total)
    return total.to(inputs.dtype)


def warp(images, transform, interpolation, fill_mode, fill_value, data_format):
    """Samples each image at `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`, `k = c0 x + c1 y
    + 1`, for the 8 coefficients of its row of `transform` (one row broadcasts over the batch)."""
    single = images.ndim == 3
    x = images.unsqueeze(0) if single else images
    if data_format == "channels_first":
        x = x.permute(0, 2, 3, 1)
    batch, height, width, _ = x.shape  # (B, H, W, C)
    transform = transform.reshape(-1, 8).to(torch.float32 if not transform.is_floating_point() else transform.dtype)
    transform = transform.expand(batch, 8)
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=transform.dtype, device=x.device),
        torch.arange(width, dtype=transform.dtype, device=x.device), indexing="ij",
    )
    a0, a1, a2, b0, b1, b2, c0, c1 = (transform[:, i].reshape(-1, 1, 1) for i in range(8))
    k = c0 * xs + c1 * ys + 1
    src_x = (a0 * xs + a1 * ys + a2) / k  # (B, H, W)
    src_y = (b0 * xs + b1 * ys + b2) / k
    out = sample_nhwc(x, src_x, src_y, interpolation, fill_mode, fill_value)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out.squeeze(0) if single else out


def sample_nhwc(x, src_x, src_y, interpolation, fill_mode, fill_value):
    """Samples `(B, H, W, C)` images `x` at the `(B, H', W')` points `(src_x, src_y)` (as
    `map_coordinates` with order 0 / 1 would, per image and channel, in one batched gather)."""
    batch, height, width, _ = x.shape
    order = 0 if interpolation == "nearest" else 1
    batch_index = torch.arange(batch, device=x.device).reshape(-1, 1, 1)
    total = 0
    for iy, wy in _nodes(src_y, order):
        for ix, wx in _nodes(src_x, order):
            values = x[batch_index, _fix_index(iy, height, fill_mode), _fix_index(ix, width, fill_mode)]
            if fill_mode == "constant":
                inside = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
                values = torch.where(inside.unsqueeze(-1), values, fill_value)
            weight = wy * wx
            total = total + (weight.unsqueeze(-1) if torch.is_tensor(weight) else weight) * values
    if not x.dtype.is_floating_point:
        total = torch.round(total)
    return total.to(x.dtype)




def _homography(start_points, end_points):
    """Rows `[a0, a1, a2, b0, b1, b2, c0, c1]` mapping each `end` quad onto its `start` quad."""
    dtype = start_points.dtype
    compute = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    start, end = start_points.to(compute), end_points.to(compute)  # (B, 4, 2)
    ex, ey = end[..., 0], end[..., 1]  # (B, 4)
    sx, sy = start[..., 0], start[..., 1]
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    rows_x = torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], dim=-1)  # (B, 4, 8)
    rows_y = torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], dim=-1)
    matrix = torch.stack([rows_x, rows_y], dim=2).reshape(-1, 8, 8)  # x, y rows per point
    target = torch.stack([sx, sy], dim=-1).reshape(-1, 8, 1)
    # `solve_ex` skips the singularity check, which would wait for the device on every call.
    return torch.linalg.solve_ex(matrix, target).result.reshape(-1, 8).to(dtype)


@keras_op
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warps images so the quadrilateral `start_points` lands on `end_points`.

    Args:
        images: 3D or 4D image tensor.
        start_points: `(4, 2)` or `(batch, 4, 2)` corner `(x, y)` positions in the input.
        end_points: The same corners' positions in the output.
        interpolation: `"nearest"` or `"bilinear"`.
        fill_value: The value outside the input image.
        data_format: `"channels_last"` or `"channels_first"`.
    """
    from_format = config.standardize_data_format(data_format)
    images = _t(images)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one {'nearest', 'bilinear'}. "
            f"Received: interpolation={interpolation}"
        )
    if images.ndim not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={tuple(images.shape)}"
        )
    dtype = images.dtype if images.dtype.is_floating_point else torch.float32
    start_points = like(start_points, images).to(dtype)
    end_points = like(end_points, images).to(dtype)
    for name, points in (("start_points", start_points), ("end_points", end_points)):
        if tuple(points.shape[-2:]) != (4, 2) or points.dim() not in (2, 3):
            raise ValueError(
                f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a batch. "
                f"Received shape: {tuple(points.shape)}"
            )
    if start_points.shape != end_points.shape:
        raise ValueError(
            "start_points and end_points must have the same shape. Received start_points.shape="
            f"{tuple(start_points.shape)}, end_points.shape={tuple(end_points.shape)}"
        )
    transform = _homography(start_points.reshape(-1, 4, 2), end_points.reshape(-1, 4, 2))
    return warp(images, transform, interpolation, "constant", fill_value, from_format)
