"""Geometric operations on `xyxy` boxes: clipping to the image, cropping, padding and affine
transforms, computed as Keras 3 computes them (float32, same order of operations)."""

import math

import torch

from keraslike.utils.bounding_boxes._tensors import as_tensor, split4


def _xyxy_only(function, bounding_box_format, allowed=("xyxy",)):
    if bounding_box_format not in allowed:
        raise NotImplementedError(
            f"`{function}` supports bounding_box_format in {allowed} only (as Keras). "
            f"Received: bounding_box_format={bounding_box_format!r}"
        )


def _area(boxes):
    x1, y1, x2, y2 = split4(boxes)
    return (x2 - x1) * (y2 - y1)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Clips bounding boxes to the image and marks the boxes left empty.

    Boxes whose clipped area is not positive get label `-1` (when `"labels"` is given).

    Args:
        bounding_boxes: A dict with `"boxes"` `(N, 4)` or `(batch, N, 4)` and optionally
            `"labels"` `(N,)` or `(batch, N)`.
        height: Image height (required for `"xyxy"`).
        width: Image width (required for `"xyxy"`).
        bounding_box_format: `"xyxy"` (default, clipped to `[0, width] x [0, height]`) or
            `"rel_xyxy"` (clipped to `[0, 1]`).

    Returns:
        A new dict (a shallow copy of `bounding_boxes`) with the clipped `"boxes"` and the
        updated `"labels"`.

    Raises:
        NotImplementedError: For any other `bounding_box_format`.
        ValueError: For `"xyxy"` without `height` and `width`.

    Example:

    >>> boxes = {"boxes": np.array([[-10., -20., 150., 160.], [50., 40., 70., 80.]]),
    ...          "labels": np.array([0, 1])}
    >>> keras.utils.bounding_boxes.clip_to_image_size(boxes, height=100, width=120)["boxes"]
    tensor([[  0.,   0., 120., 100.],
            [ 50.,  40.,  70.,  80.]], dtype=torch.float64)
    """
    _xyxy_only("clip_to_image_size", bounding_box_format, ("xyxy", "rel_xyxy"))
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    boxes = as_tensor(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels", None)
    if bounding_box_format == "xyxy":
        high_x = as_tensor(width, boxes.dtype, boxes.device)
        high_y = as_tensor(height, boxes.dtype, boxes.device)
    else:
        high_x = high_y = torch.tensor(1.0, device=boxes.device)
    zero = torch.tensor(0, device=boxes.device)
    x1, y1, x2, y2 = split4(boxes)
    boxes = torch.cat([torch.clip(x1, zero, high_x), torch.clip(y1, zero, high_y),
                       torch.clip(x2, zero, high_x), torch.clip(y2, zero, high_y)], dim=-1)
    result = bounding_boxes.copy()
    result["boxes"] = boxes
    if labels is not None:
        labels = as_tensor(labels, device=boxes.device)
        areas = _area(boxes).squeeze(-1)
        result["labels"] = torch.where(areas > 0, labels, torch.tensor(-1, device=boxes.device))
    return result


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """Moves boxes into the frame of a crop and clips them to it.

    Args:
        boxes: Boxes `(N, 4)` or `(batch, N, 4)` in `xyxy` format.
        top: Vertical offset of the crop's top-left corner.
        left: Horizontal offset of the crop's top-left corner.
        height: Height of the crop.
        width: Width of the crop.
        bounding_box_format: Only `"xyxy"` (as Keras).

    Returns:
        The cropped boxes (same dtype as `boxes`).

    Example:

    >>> boxes = np.array([[10, 20, 50, 60], [70, 80, 100, 120]])
    >>> keras.utils.bounding_boxes.crop(boxes, top=10, left=20, height=40, width=30)
    tensor([[ 0, 10, 30, 40],
            [30, 40, 30, 40]])
    """
    _xyxy_only("crop", bounding_box_format)
    boxes = as_tensor(boxes)
    x1, y1, x2, y2 = split4(boxes)
    zero = torch.tensor(0, device=boxes.device)
    high_x = None if width is None else as_tensor(width, device=boxes.device)
    high_y = None if height is None else as_tensor(height, device=boxes.device)
    return torch.cat([torch.clip(x1 - left, zero, high_x), torch.clip(y1 - top, zero, high_y),
                      torch.clip(x2 - left, zero, high_x), torch.clip(y2 - top, zero, high_y)],
                     dim=-1)


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """Moves boxes by the padding added above (`top`) and left (`left`) of the image.

    Args:
        boxes: Boxes `(N, 4)` or `(batch, N, 4)` in `xyxy` format.
        top: Padding added above the image.
        left: Padding added left of the image.
        height: Unused (Keras's signature).
        width: Unused (Keras's signature).
        bounding_box_format: Only `"xyxy"` (as Keras).

    Returns:
        The shifted boxes.
    """
    _xyxy_only("pad", bounding_box_format)
    x1, y1, x2, y2 = split4(as_tensor(boxes))
    return torch.cat([x1 + left, y1 + top, x2 + left, y2 + top], dim=-1)


def _f32(value, like):
    """A 0-d tensor of `like`'s dtype: how Keras's ops turn Python numbers into tensors."""
    return torch.tensor(value, dtype=like.dtype, device=like.device)


def inverse_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale, shear_x,
                          shear_y, height, width):
    """`(B, 3, 3)` matrices taking input pixel points to output points for Keras's affine
    augmentation parameters (angles and shears in degrees, translations in fractions)."""
    angle, shear_x, shear_y = -angle, -shear_x, -shear_y
    radians = _f32(1.0 / 180.0 * math.pi, angle)
    cx = _f32(center_x, angle) * (width - 1)
    cy = _f32(center_y, angle) * (height - 1)
    rot = angle * radians
    tx = -translate_x * (width - 1)
    ty = -translate_y * (height - 1)
    sx = shear_x * radians
    sy = shear_y * radians
    cos_sy, tan_sx = torch.cos(sy), torch.tan(sx)
    rot_minus_sy = rot - sy
    cx_plus_tx, cy_plus_ty = cx + tx, cy + ty
    a = torch.cos(rot_minus_sy) / cos_sy
    b = a * tan_sx + torch.sin(rot)
    c = -torch.sin(rot_minus_sy) / cos_sy
    d = torch.cos(rot) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * cx_plus_tx - a1 * cy_plus_ty
    b2 = cy - b0 * cx_plus_tx - b1 * cy_plus_ty
    zeros, ones = torch.zeros_like(angle), torch.ones_like(angle)
    matrix = torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, ones], dim=-1)
    return matrix.reshape(-1, 3, 3)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                     width, center_x=None, center_y=None, bounding_box_format="xyxy"):
    """Applies an affine transformation to bounding boxes.

    Each box's four corners are transformed and the result is their enclosing `xyxy` box.

    Args:
        boxes: Boxes `(batch, N, 4)` in `xyxy` format.
        angle: Rotation angles in degrees, `(batch,)`.
        translate_x: Horizontal translations (fractions of the width), `(batch,)`.
        translate_y: Vertical translations (fractions of the height), `(batch,)`.
        scale: Scaling factors, `(batch,)`.
        shear_x: Shear angles along x in degrees, `(batch,)`.
        shear_y: Shear angles along y in degrees, `(batch,)`.
        height: Image height.
        width: Image width.
        center_x: Transformation centre x, a fraction of the width (default 0.5).
        center_y: Transformation centre y, a fraction of the height (default 0.5).
        bounding_box_format: Only `"xyxy"` (as Keras).

    Returns:
        The transformed boxes `(batch, N, 4)` (not clipped to the image).
    """
    _xyxy_only("affine_transform", bounding_box_format)
    angle = as_tensor(angle)
    if not angle.is_floating_point():
        angle = angle.to(torch.float32)
    like = dict(dtype=angle.dtype, device=angle.device)
    matrix = inverse_affine_matrix(
        0.5 if center_x is None else center_x, 0.5 if center_y is None else center_y, angle,
        as_tensor(translate_x).to(**like), as_tensor(translate_y).to(**like),
        as_tensor(scale).to(**like), as_tensor(shear_x).to(**like),
        as_tensor(shear_y).to(**like), height, width,
    )
    boxes = as_tensor(boxes).to(**like)
    batch, n_boxes = boxes.shape[0], boxes.shape[1]
    x1, y1, x2, y2 = boxes.unbind(-1)
    corners = torch.stack([x1, y1, x2, y1, x2, y2, x1, y2], dim=-1).reshape(batch, n_boxes, 4, 2)
    corners = torch.cat([corners, torch.ones(batch, n_boxes, 4, 1, **like)], dim=-1)
    moved = torch.einsum("bnxy,byz->bnxz", corners, matrix[:, :2, :].transpose(1, 2))
    return torch.cat([moved.amin(dim=2), moved.amax(dim=2)], dim=-1)
