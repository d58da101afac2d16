"""How each geometric image layer moves bounding boxes, as Keras 3's layers compute it.

Each function takes a batched box dict (`{"boxes": (B, N, 4) float32, "labels": (B, N)}`) in
`fmt`, the layer's drawn transformation and the input image size, and returns a new dict in
`fmt`: boxes moved, clipped to the output image, and labels of boxes left empty set to -1.
"""

import torch

from keraslike.ops.image_sampling import _homography as homography
from keraslike.utils.bounding_boxes import affine_transform, clip_to_image_size, convert_format
from keraslike.utils.bounding_boxes._tensors import split4


def _convert(bounding_boxes, source, target, height, width, dtype="float32"):
    return convert_format(dict(bounding_boxes), source, target, height, width, dtype)


def flip(bounding_boxes, flips, horizontal, vertical, fmt, height, width):
    """`flips`: a `(B, ...)` bool per image; the flipped images mirror their boxes."""
    bounding_boxes = _convert(bounding_boxes, fmt, "rel_xyxy", height, width)
    boxes = bounding_boxes["boxes"]
    flips = flips.reshape(-1, 1, 1)
    if horizontal:
        x1, y1, x2, y2 = split4(boxes)
        boxes = torch.where(flips, torch.cat([1 - x2, y1, 1 - x1, y2], dim=-1), boxes)
    if vertical:
        x1, y1, x2, y2 = split4(boxes)
        boxes = torch.where(flips, torch.cat([x1, 1 - y2, x2, 1 - y1], dim=-1), boxes)
    bounding_boxes["boxes"] = boxes
    # (Keras clips these relative boxes to the image size in pixels: only the labels change.)
    bounding_boxes = clip_to_image_size(bounding_boxes, height, width, "xyxy")
    return _convert(bounding_boxes, "rel_xyxy", fmt, height, width)


def translate(bounding_boxes, dy, dx, fmt, height, width):
    """`dy`, `dx`: `(B, 1)` shifts as fractions of the image height and width."""
    bounding_boxes = _convert(bounding_boxes, fmt, "xyxy", height, width)
    # Keras moves the boxes by minus the sampling offset `-(dx * width)`.
    x_shift = (-(dx * width)).unsqueeze(-1)  # (B, 1, 1)
    y_shift = (-(dy * height)).unsqueeze(-1)
    x1, y1, x2, y2 = split4(bounding_boxes["boxes"])
    bounding_boxes["boxes"] = torch.cat(
        [x1 - x_shift, y1 - y_shift, x2 - x_shift, y2 - y_shift], dim=-1
    )
    bounding_boxes = clip_to_image_size(bounding_boxes, height, width, "xyxy")
    return _convert(bounding_boxes, "xyxy", fmt, height, width)


def zoom(bounding_boxes, height_zoom, width_zoom, fmt, height, width):
    """`height_zoom`, `width_zoom`: `(B, 1)` factors (above 1 zooms out). The window of the
    input an output image shows is `[start, start + zoom * size]` on each axis."""
    bounding_boxes = _convert(bounding_boxes, fmt, "xyxy", height, width)
    zx, zy = width_zoom.to(torch.float32), height_zoom.to(torch.float32)
    w_float = torch.tensor(width, dtype=torch.float32, device=zx.device)
    h_float = torch.tensor(height, dtype=torch.float32, device=zx.device)
    x_start = ((w_float - 1.0) / 2.0) * (1.0 - zx)  # (B, 1), Keras's zoom-matrix offsets
    y_start = ((h_float - 1.0) / 2.0) * (1.0 - zy)
    x_end = zx * width + x_start
    y_end = zy * height + y_start
    x1, y1, x2, y2 = split4(bounding_boxes["boxes"])
    xs, xe, ys, ye = (t.unsqueeze(-1) for t in (x_start, x_end, y_start, y_end))
    bounding_boxes["boxes"] = torch.cat(
        [torch.clip(x1, xs, xe) - xs, torch.clip(y1, ys, ye) - ys,
         torch.clip(x2, xs, xe) - xs, torch.clip(y2, ys, ye) - ys], dim=-1
    )
    window_h = (y_end - y_start).unsqueeze(-1)
    window_w = (x_end - x_start).unsqueeze(-1)
    bounding_boxes = _convert(bounding_boxes, "xyxy", "rel_xyxy", window_h, window_w)
    bounding_boxes = clip_to_image_size(bounding_boxes, window_h, window_w, "rel_xyxy")
    return _convert(bounding_boxes, "rel_xyxy", fmt, height, width)


def rotate(bounding_boxes, angle, fmt, height, width):
    """`angle`: `(B,)` degrees. Each box becomes the enclosing box of its rotated corners.

    Keras 3.15 skips the conversion to `xyxy` here (boxes in another format are rotated as if
    they were corners); keraslike converts, so every format gets the right boxes.
    """
    bounding_boxes = _convert(bounding_boxes, fmt, "xyxy", height, width)
    angle = angle.to(torch.float32)
    zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)
    bounding_boxes["boxes"] = affine_transform(
        bounding_boxes["boxes"], angle, zeros, zeros, ones, zeros, zeros, height, width
    )
    bounding_boxes = clip_to_image_size(bounding_boxes, height, width, "xyxy")
    return _convert(bounding_boxes, "xyxy", fmt, height, width)


def shear(bounding_boxes, shear_factor, fmt, height, width, dtype):
    """`shear_factor`: `(B, 2)` `(shear_x, shear_y)` as drawn (sign included). As Keras, the
    corners move by the shear in relative coordinates."""
    bounding_boxes = _convert(bounding_boxes, fmt, "rel_xyxy", height, width, dtype)
    sx, sy = torch.split(shear_factor.to(bounding_boxes["boxes"].dtype), 1, dim=-1)  # (B, 1)
    x1, y1, x2, y2 = (t.squeeze(-1) for t in split4(bounding_boxes["boxes"]))  # (B, N)
    x1 = torch.where(sx < 0, x1 - sx * y1, x1 - sx * y2)
    x2 = torch.where(sx < 0, x2 - sx * y2, x2 - sx * y1)
    y1 = torch.where(sy > 0, y1 - sy * x2, y1 - sy * x1)
    y2 = torch.where(sy > 0, y2 - sy * x1, y2 - sy * x2)
    bounding_boxes["boxes"] = torch.stack([x1, y1, x2, y2], dim=-1)
    bounding_boxes = clip_to_image_size(bounding_boxes, height, width, "rel_xyxy")
    return _convert(bounding_boxes, "rel_xyxy", fmt, height, width, dtype)


def perspective(bounding_boxes, apply, start_points, end_points, fmt, height, width):
    """`apply`: `(B,)` bool; `start_points` / `end_points`: `(B, 4, 2)` image corners before
    and after the warp. Each warped box becomes the enclosing box of its warped corners.

    Keras 3.15 returns these boxes in `xyxy` whatever the layer's format; keraslike converts
    them back to the layer's format.
    """
    bounding_boxes = _convert(bounding_boxes, fmt, "xyxy", height, width)
    boxes = bounding_boxes["boxes"]
    rows = homography(start_points, end_points).to(boxes.dtype)  # (B, 8): output -> input
    matrix = torch.cat([rows, torch.ones_like(rows[:, :1])], dim=-1).reshape(-1, 3, 3)
    inverse = torch.linalg.inv(matrix)  # input -> output
    x1, y1, x2, y2 = split4(boxes)
    xs, ys = [], []
    for x, y in ((x1, y1), (x2, y2), (x1, y2), (x2, y1)):
        points = torch.cat([x, y, torch.ones_like(x)], dim=-1).transpose(-1, -2)  # (B, 3, N)
        moved = torch.matmul(inverse, points).transpose(-1, -2)  # (B, N, 3)
        xs.append(moved[..., 0] / moved[..., 2])
        ys.append(moved[..., 1] / moved[..., 2])
    xs, ys = torch.stack(xs, dim=-1), torch.stack(ys, dim=-1)  # (B, N, 4)
    warped = torch.stack([xs.amin(-1), ys.amin(-1), xs.amax(-1), ys.amax(-1)], dim=-1)
    bounding_boxes["boxes"] = torch.where(apply.view(-1, 1, 1), warped, boxes)
    bounding_boxes = clip_to_image_size(bounding_boxes, height, width, "xyxy")
    return _convert(bounding_boxes, "xyxy", fmt, height, width)


def crop_window(bounding_boxes, top, left, crop_height, crop_width, fmt, height, width,
                out_height, out_width):
    """Boxes of images cropped to the window `(top, left, crop_height, crop_width)` of an input
    `(height, width)` and resized to `(out_height, out_width)`."""
    bounding_boxes = _convert(bounding_boxes, fmt, "xyxy", height, width)
    x1, y1, x2, y2 = split4(bounding_boxes["boxes"])
    x1, x2 = (torch.clip(x, left, left + crop_width) - left for x in (x1, x2))
    y1, y2 = (torch.clip(y, top, top + crop_height) - top for y in (y1, y2))
    boxes = torch.cat([x1, y1, x2, y2], dim=-1)
    if (crop_height, crop_width) != (out_height, out_width):
        boxes = convert_format(boxes, "xyxy", "rel_xyxy", crop_height, crop_width)
        boxes = convert_format(boxes, "rel_xyxy", "xyxy", out_height, out_width)
    bounding_boxes["boxes"] = boxes
    bounding_boxes = clip_to_image_size(bounding_boxes, out_height, out_width, "xyxy")
    return _convert(bounding_boxes, "xyxy", fmt, out_height, out_width)


def resize(bounding_boxes, fmt, height, width, out_height, out_width, crop_to_aspect_ratio,
           pad_to_aspect_ratio):
    """Boxes of images resized (stretched, or cropped / padded to the target aspect ratio
    first) from `(height, width)` to `(out_height, out_width)`; padding boxes (all 0 or all
    -1) become zeros, as Keras's `Resizing`."""
    boxes = bounding_boxes["boxes"]
    padding = torch.all(boxes == -1, dim=-1) | torch.all(boxes == 0, dim=-1)
    bounding_boxes = _convert(bounding_boxes, fmt, "xyxy", height, width)
    boxes = bounding_boxes["boxes"]
    in_h = torch.tensor(height, dtype=boxes.dtype, device=boxes.device)
    in_w = torch.tensor(width, dtype=boxes.dtype, device=boxes.device)
    x1, y1, x2, y2 = boxes.unbind(-1)
    if pad_to_aspect_ratio:
        scale = torch.minimum(out_height / in_h, out_width / in_w)
        y_offset = (out_height - in_h * scale) // 2
        x_offset = (out_width - in_w * scale) // 2
        boxes = torch.stack([x1 * scale + x_offset, y1 * scale + y_offset,
                             x2 * scale + x_offset, y2 * scale + y_offset], dim=-1)
    elif crop_to_aspect_ratio:
        source_ratio = in_w / in_h
        wider = source_ratio > out_width / out_height
        new_w = torch.where(wider, out_height * source_ratio, out_width)
        new_h = torch.where(wider, out_height, out_width / source_ratio)
        scale_x, scale_y = new_w / in_w, new_h / in_h
        crop_left, crop_top = (new_w - out_width) // 2, (new_h - out_height) // 2
        boxes = torch.stack([x1 * scale_x - crop_left, y1 * scale_y - crop_top,
                             x2 * scale_x - crop_left, y2 * scale_y - crop_top], dim=-1)
    else:
        h_ratio, w_ratio = out_height / in_h, out_width / in_w
        boxes = torch.stack([x1 * w_ratio, y1 * h_ratio, x2 * w_ratio, y2 * h_ratio], dim=-1)
    bounding_boxes["boxes"] = boxes
    bounding_boxes = clip_to_image_size(bounding_boxes, out_height, out_width, "xyxy")
    bounding_boxes["boxes"] = torch.where(
        padding.unsqueeze(-1), torch.zeros((), dtype=boxes.dtype, device=boxes.device),
        bounding_boxes["boxes"],
    )
    return _convert(bounding_boxes, "xyxy", fmt, out_height, out_width)


def center_crop(bounding_boxes, fmt, height, width, out_height, out_width):
    """Boxes of `CenterCrop`: the centred window when the image is large enough, else the
    centred window of the target aspect ratio resized to the target (as its images)."""
    if height >= out_height and width >= out_width:
        top, left = int((height - out_height) / 2), int((width - out_width) / 2)
        crop_h, crop_w = out_height, out_width
    else:
        crop_h = max(min(height, int(float(width * out_height) / out_width)), 1)
        crop_w = max(min(width, int(float(height * out_width) / out_height)), 1)
        top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    return crop_window(bounding_boxes, top, left, crop_h, crop_w, fmt, height, width,
                       out_height, out_width)
