"""Batched affine resampling of images with Keras 3's `ops.image.affine_transform` semantics.

A transform `[a0, a1, a2, b0, b1, b2, c0, c1]` maps each output pixel `(x, y)` (pixel indices)
to the input point `(a0 x + a1 y + a2, b0 x + b1 y + b2)`; points outside the image are filled
per `fill_mode` as Keras (scipy's `map_coordinates`) does: `reflect` (d c b a | a b c d),
`wrap`, `nearest`, `constant` (`fill_value`).

The layers describe a transform as a `(B, 2, 2)` pixel-space matrix acting about the image
centre plus an optional `(B, 2)` pixel offset (`resample`). Bilinear sampling with `constant`,
`nearest` and `reflect` then turns that into `affine_grid`'s normalized `theta` with two tensor
ops and samples with one `grid_sample` (these modes extend the image symmetrically or by
clamping, so reflecting / clamping the sampling point equals Keras's per-corner index fixing):
a handful of kernels per batch, which is what matters on a GPU, where these images are tiny.
`nearest` interpolation and `wrap` gather the corners explicitly. Everything stays on the
images' device.
"""

import functools

import torch
import torch.nn.functional as F


def _source_points(transforms, height, width, dtype):
    """Input `(x, y)` of every output pixel: two `(B, H, W)` tensors."""
    device = transforms.device
    ys = torch.arange(height, dtype=dtype, device=device).view(1, height, 1)
    xs = torch.arange(width, dtype=dtype, device=device).view(1, 1, width)
    t = transforms.to(dtype)
    a0, a1, a2, b0, b1, b2 = (t[:, i].view(-1, 1, 1) for i in range(6))
    return a0 * xs + a1 * ys + a2, b0 * xs + b1 * ys + b2


def _fix_index(index, size, fill_mode):
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "reflect":
        period = 2 * size
        index = torch.remainder(index, period)
        return torch.where(index >= size, period - 1 - index, index)
    return index.clamp(0, size - 1)


def _gather_sample(images, x, y, interpolation, fill_mode, fill_value):
    """Explicit-corner sampling (NHWC images, `(B, H, W)` points)."""
    b, h, w, c = images.shape
    flat = images.reshape(b, h * w, c)

    def corner(yi, xi):
        valid = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        yf, xf = _fix_index(yi, h, fill_mode), _fix_index(xi, w, fill_mode)
        index = (yf * w + xf).reshape(b, -1, 1).expand(-1, -1, c)
        values = torch.gather(flat, 1, index).reshape(b, x.shape[1], x.shape[2], c)
        if fill_mode == "constant":
            values = torch.where(valid.unsqueeze(-1), values, fill_value)
        return values

    if interpolation == "nearest":
        return corner(torch.round(y).long(), torch.round(x).long())
    y0, x0 = torch.floor(y), torch.floor(x)
    wy, wx = (y - y0).unsqueeze(-1), (x - x0).unsqueeze(-1)
    y0, x0 = y0.long(), x0.long()
    return (
        corner(y0, x0) * ((1 - wy) * (1 - wx))
        + corner(y0, x0 + 1) * ((1 - wy) * wx)
        + corner(y0 + 1, x0) * (wy * (1 - wx))
        + corner(y0 + 1, x0 + 1) * (wy * wx)
    )


def _grid_mode(interpolation, fill_mode):
    """`(align_corners, padding_mode)` of the `grid_sample` equal to Keras's sampling, or
    `None` where the corners must be gathered explicitly."""
    if interpolation != "bilinear":
        return None
    if fill_mode == "reflect":
        # Half-sample symmetric extension == grid_sample's reflection, align_corners=False.
        return False, "reflection"
    if fill_mode in ("constant", "nearest"):
        return True, "zeros" if fill_mode == "constant" else "border"
    return None


@functools.lru_cache(maxsize=64)
def _normalizers(height, width, align_corners, device, dtype):
    """Constants taking pixel-space transforms to `affine_grid`'s normalized space: the factors
    `S^-1 L S` multiplies `L` by, and `1 / S` (`S` the half-extent in pixels). Cached per image
    size, device and dtype (their values depend on nothing else), so a batch makes no
    host-to-device copy."""
    if align_corners:
        sx, sy = max(width - 1, 1) / 2.0, max(height - 1, 1) / 2.0
    else:
        sx, sy = width / 2.0, height / 2.0
    factors = torch.tensor([[1.0, sy / sx], [sx / sy, 1.0]], dtype=dtype).to(device)
    inverse = torch.tensor([1.0 / sx, 1.0 / sy], dtype=dtype).to(device)
    return factors, inverse


@functools.lru_cache(maxsize=64)
def _base_grid(height, width, align_corners, device, dtype):
    """`affine_grid`'s homogeneous output coordinates `(H * W, 3)` (normalized x, y, 1), made
    once per size, device and dtype instead of on every call."""
    def axis(size):
        values = torch.linspace(-1.0, 1.0, size, dtype=dtype, device=device)
        return values if align_corners else values * ((size - 1) / size)

    ys, xs = torch.meshgrid(axis(height), axis(width), indexing="ij")
    return torch.stack([xs, ys, torch.ones_like(xs)], dim=-1).reshape(height * width, 3)


def resample(images, linear, offset=None, interpolation="bilinear", fill_mode="reflect",
             fill_value=0.0, data_format="channels_last"):
    """Samples output pixel `p` of each image at `c + linear @ (p - c) + offset` (`c` the image
    centre, `(x, y)` pixel coordinates): `linear` `(B, 2, 2)`, `offset` `(B, 2)` or `None`."""
    channels_last = data_format == "channels_last"
    h, w = (images.shape[1], images.shape[2]) if channels_last else images.shape[2:]
    dtype = images.dtype if images.is_floating_point() else torch.float32
    linear = linear.to(dtype)
    mode = _grid_mode(interpolation, fill_mode)
    if mode is None:
        cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
        # p' = L p + (c - L c + offset), as Keras's 8-coefficient rows.
        a2 = cx - linear[:, 0, 0] * cx - linear[:, 0, 1] * cy
        b2 = cy - linear[:, 1, 0] * cx - linear[:, 1, 1] * cy
        if offset is not None:
            a2, b2 = a2 + offset[:, 0].to(dtype), b2 + offset[:, 1].to(dtype)
        zeros = torch.zeros_like(a2)
        matrix = torch.stack([linear[:, 0, 0], linear[:, 0, 1], a2,
                              linear[:, 1, 0], linear[:, 1, 1], b2, zeros, zeros], dim=1)
        return affine_transform(images, matrix, interpolation, fill_mode, fill_value, data_format)
    align_corners, padding = mode
    factors, inverse = _normalizers(h, w, align_corners, images.device, dtype)
    theta = linear * factors
    if offset is None:
        theta = F.pad(theta, (0, 1))
    else:
        theta = torch.cat([theta, (offset.to(dtype) * inverse).unsqueeze(-1)], dim=2)
    nchw = images.permute(0, 3, 1, 2) if channels_last else images
    # What `F.affine_grid` computes, with its base grid cached: one batched matmul.
    grid = torch.matmul(_base_grid(h, w, align_corners, images.device, dtype),
                        theta.transpose(1, 2)).view(-1, h, w, 2)
    shifted = nchw - fill_value if padding == "zeros" and fill_value else nchw
    out = F.grid_sample(shifted, grid, "bilinear", padding, align_corners=align_corners)
    if shifted is not nchw:
        out = out + fill_value
    return out.permute(0, 2, 3, 1) if channels_last else out


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect",
                     fill_value=0.0, data_format="channels_last"):
    """Resamples a batch of images (`(B, H, W, C)` or `(B, C, H, W)`) by `transforms` `(B, 8)`
    (Keras's pixel-space rows; the last two, projective, terms are ignored)."""
    if _grid_mode(interpolation, fill_mode) is not None:
        channels_last = data_format == "channels_last"
        h, w = (images.shape[1], images.shape[2]) if channels_last else images.shape[2:]
        t = transforms.to(images.dtype if images.is_floating_point() else torch.float32)
        linear = torch.stack([t[:, 0:2], t[:, 3:5]], dim=1)  # (B, 2, 2)
        cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
        # p' = L p + t = c + L (p - c) + (L c + t - c)
        offset = torch.stack([t[:, 2] + t[:, 0] * cx + t[:, 1] * cy - cx,
                              t[:, 5] + t[:, 3] * cx + t[:, 4] * cy - cy], dim=1)
        return resample(images, linear, offset, interpolation, fill_mode, fill_value, data_format)
    channels_last = data_format == "channels_last"
    h, w = (images.shape[1], images.shape[2]) if channels_last else images.shape[2:]
    dtype = images.dtype if images.is_floating_point() else torch.float32
    x, y = _source_points(transforms.to(images.device), h, w, dtype)
    nhwc = images if channels_last else images.permute(0, 2, 3, 1)
    out = _gather_sample(nhwc, x, y, interpolation, fill_mode, fill_value)
    return out if channels_last else out.permute(0, 3, 1, 2)
