"""Intersection over union (pairwise) and complete IoU (elementwise), as Keras 3 computes them."""

import math

import torch

from keraslike.backend.config import epsilon
from keraslike.utils.bounding_boxes._tensors import as_tensor, split4
from keraslike.utils.bounding_boxes.formats import convert_format


def _size(bounding_box_format, image_shape):
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) "
            "the `image_shape` argument must be provided. "
            f"Received `image_shape`: {image_shape}"
        )
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def _transposed(t, rank):
    return t.transpose(-1, -2) if rank == 3 else t.t()


def compute_iou(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1,
                image_shape=None):
    """Computes the pairwise intersection over union of two sets of boxes.

    `boxes1` `(M, 4)` or `(B, M, 4)` and `boxes2` `(N, 4)` or `(B, N, 4)` give a table
    `(M, N)`, or `(B, M, N)` when either is batched.

    Args:
        boxes1: First boxes, in `bounding_box_format`.
        boxes2: Second boxes, in `bounding_box_format`.
        bounding_box_format: Case-insensitive format string (e.g. `"xyxy"`).
        use_masking: Whether to set the IoU of padding boxes (all coordinates negative) to
            `mask_val`. Defaults to `False`.
        mask_val: Value for masked pairs (default `-1`).
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The IoU table (float32 torch tensor).

    Raises:
        ValueError: If a box set is not of rank 2 or 3, or for a relative format without
            `image_shape`.
    """
    boxes1, boxes2 = as_tensor(boxes1), as_tensor(boxes2)
    rank1, rank2 = boxes1.ndim, boxes2.ndim
    for index, rank in ((1, rank1), (2, rank2)):
        if rank not in (2, 3):
            raise ValueError(
                f"compute_iou() expects boxes{index} to be batched, or to be unbatched. "
                f"Received len(boxes1.shape)={rank1}, len(boxes2.shape)={rank2}. Expected "
                f"either len(boxes{index}.shape)=2 AND or len(boxes{index}.shape)=3."
            )
    height, width = _size(bounding_box_format, image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width)

    y_min1, x_min1, y_max1, x_max1 = split4(boxes1)
    y_min2, x_min2, y_max2, x_max2 = split4(boxes2)
    inter_h = torch.minimum(y_max1, _transposed(y_max2, rank2)) - torch.maximum(
        y_min1, _transposed(y_min2, rank2))
    inter_w = torch.minimum(x_max1, _transposed(x_max2, rank2)) - torch.maximum(
        x_min1, _transposed(x_min2, rank2))
    zero = torch.tensor(0, dtype=inter_h.dtype, device=inter_h.device)
    intersection = torch.maximum(zero, inter_h) * torch.maximum(zero, inter_w)  # (.., M, N)

    area1 = ((y_max1 - y_min1) * (x_max1 - x_min1)).squeeze(-1)
    area2 = ((y_max2 - y_min2) * (x_max2 - x_min2)).squeeze(-1)
    area1 = area1.unsqueeze(-1)
    area2 = area2.unsqueeze(1 if area2.ndim == 2 else 0)
    union = area1 + area2 - intersection
    iou = torch.divide(intersection, union + epsilon())
    if not use_masking:
        return iou
    masked = torch.tensor(mask_val, dtype=iou.dtype, device=iou.device) * torch.ones_like(iou)
    mask1 = boxes1.amax(dim=-1, keepdim=True) < 0.0
    mask2 = boxes2.amax(dim=-1, keepdim=True) < 0.0
    # As Keras, the transpose of boxes2's mask follows boxes1's rank.
    background = mask1 | _transposed(mask2, rank1)
    return torch.where(background, masked, iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """Computes the complete IoU (CIoU) of pairs of boxes (elementwise, broadcasting).

    CIoU is the IoU minus a centre-distance term and an aspect-ratio term.

    Args:
        boxes1: Boxes `(..., 4)` in `bounding_box_format`.
        boxes2: Boxes `(..., 4)` in `bounding_box_format`.
        bounding_box_format: Case-insensitive format string (e.g. `"xyxy"`).
        image_shape: `(height, width, channels)`, needed for relative formats.

    Returns:
        The CIoU of each pair, shape `(...)`.

    Raises:
        ValueError: For a relative format without `image_shape`.
    """
    height, width = _size(bounding_box_format, image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width)
    eps = epsilon()
    x_min1, y_min1, x_max1, y_max1 = split4(boxes1[..., :4])
    x_min2, y_min2, x_max2, y_max2 = split4(boxes2[..., :4])
    width_1 = x_max1 - x_min1
    height_1 = y_max1 - y_min1 + eps
    width_2 = x_max2 - x_min2
    height_2 = y_max2 - y_min2 + eps
    zero = torch.tensor(0.0, dtype=boxes1.dtype, device=boxes1.device)
    intersection = torch.maximum(
        torch.minimum(x_max1, x_max2) - torch.maximum(x_min1, x_min2), zero
    ) * torch.maximum(torch.minimum(y_max1, y_max2) - torch.maximum(y_min1, y_min2), zero)
    union = width_1 * height_1 + width_2 * height_2 - intersection + eps
    iou = torch.divide(intersection, union + eps).squeeze(-1)
    convex_width = torch.maximum(x_max1, x_max2) - torch.minimum(x_min1, x_min2)
    convex_height = torch.maximum(y_max1, y_max2) - torch.minimum(y_min1, y_min2)
    convex_diagonal_squared = (convex_width**2 + convex_height**2 + eps).squeeze(-1)
    centers_distance_squared = (
        ((x_min1 + x_max1) / 2 - (x_min2 + x_max2) / 2) ** 2
        + ((y_min1 + y_max1) / 2 - (y_min2 + y_max2) / 2) ** 2
    ).squeeze(-1)
    v = ((4 / math.pi**2) * torch.pow(
        torch.arctan(width_2 / height_2) - torch.arctan(width_1 / height_1), 2
    )).squeeze(-1)
    alpha = v / (v - iou + (1 + eps))
    return iou - (centers_distance_squared / convex_diagonal_squared + v * alpha)
