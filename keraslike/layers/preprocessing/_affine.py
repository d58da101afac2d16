"""Batched affine resampling of images with Keras 3's `ops.image.affine_transform` semantics.

A transform `[a0, a1, a2, b0, b1, b2, c0, c1]` maps each output pixel `(x, y)` (pixel indices)
to the input point `(a0 x + a1 y + a2, b0 x + b1 y + b2)`; points outside the image are filled
per `fill_mode` as Keras (scipy's `map_coordinates`) does: `reflect` (d c b a | a b c d),
`wrap`, `nearest`, `constant` (`fill_value`).

Bilinear sampling with `constant`, `nearest` and `reflect` runs through one
`torch.nn.functional.grid_sample` call (these modes extend the image symmetrically or by
clamping, so reflecting / clamping the sampling point equals Keras's per-corner index fixing);
`nearest` interpolation and `wrap` gather the corners explicitly. Everything stays on the
images' device.
"""

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


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect",
                     fill_value=0.0, data_format="channels_last"):
    """Resamples a batch of images (`(B, H, W, C)` or `(B, C, H, W)`) by `transforms` `(B, 8)`."""
    channels_last = data_format == "channels_last"
    h, w = (images.shape[1], images.shape[2]) if channels_last else images.shape[2:]
    dtype = images.dtype if images.is_floating_point() else torch.float32
    x, y = _source_points(transforms.to(images.device), h, w, dtype)
    if interpolation == "bilinear" and fill_mode in ("constant", "nearest", "reflect"):
        nchw = images.permute(0, 3, 1, 2) if channels_last else images
        if fill_mode == "reflect":
            # Half-sample symmetric extension == grid_sample's reflection, align_corners=False.
            grid = torch.stack(((2 * x + 1) / w - 1, (2 * y + 1) / h - 1), dim=-1)
            out = F.grid_sample(nchw, grid, "bilinear", "reflection", align_corners=False)
        else:
            grid = torch.stack((2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1), dim=-1)
            padding = "zeros" if fill_mode == "constant" else "border"
            shifted = nchw - fill_value if fill_mode == "constant" and fill_value else nchw
            out = F.grid_sample(shifted, grid, "bilinear", padding, align_corners=True)
            if shifted is not nchw:
                out = out + fill_value
        return out.permute(0, 2, 3, 1) if channels_last else out
    nhwc = images if channels_last else images.permute(0, 2, 3, 1)
    out = _gather_sample(nhwc, x, y, interpolation, fill_mode, fill_value)
    return out if channels_last else out.permute(0, 3, 1, 2)


def rotation_shear_matrix(angle, shear_x, shear_y, height, width, scale=None,
                          translate_x=None, translate_y=None):
    """Keras's `_compute_affine_matrix` about the image centre (angles in degrees)."""
    rad = torch.pi / 180.0
    angle, shear_x, shear_y = angle * rad, torch.tan(shear_x * rad), torch.tan(shear_y * rad)
    zeros = torch.zeros_like(angle)
    scale = torch.ones_like(angle) if scale is None else scale
    translate_x = zeros if translate_x is None else translate_x
    translate_y = zeros if translate_y is None else translate_y
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)
