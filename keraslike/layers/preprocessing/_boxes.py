"""Bounding boxes in image-layer dict inputs (`{"images": ..., "bounding_boxes": {"boxes":
..., "labels": ...}}`), as Keras 3's image preprocessing layers take them.

A layer that moves pixels transforms the boxes (its `transform_bounding_boxes`, on the same
drawn transformation as the images); a layer that only changes colours keeps them
(`_KEEPS_GEOMETRY = True` on the class); any other layer refuses them with a clear error rather
than passing them through untransformed. Boxes reach `transform_bounding_boxes` batched,
`(B, N, 4)` float32 on the images' device, in the layer's `bounding_box_format`.
"""

import numpy as np
import torch

from keraslike.utils.bounding_boxes._tensors import as_tensor


def _layer_name(layer):
    return f'Layer "{layer.name}" ({type(layer).__name__})'


def unsupported(layer, key):
    """The error for a dict entry (`"bounding_boxes"`, `"segmentation_masks"`) a layer cannot
    transform yet."""
    return NotImplementedError(
        f"{_layer_name(layer)} does not support `{key}` yet: it would return them "
        "untransformed while the images move. Apply it to the images alone, or use a layer "
        f"that transforms `{key}`."
    )


def check_format(layer):
    """Keras's error for boxes given to a layer without `bounding_box_format`."""
    if not getattr(layer, "bounding_box_format", None):
        raise ValueError(
            "You passed an input with a 'bounding_boxes' key, but you didn't specify a "
            "bounding box format. Pass a `bounding_box_format` argument to your "
            f"{type(layer).__name__} layer, e.g. `bounding_box_format='xyxy'`."
        )


def _labels_tensor(labels):
    if isinstance(labels, (list, tuple)):
        array = np.asarray(labels)
        # Keras turns Python ints into int32 (and floats into float32).
        if array.dtype.kind in "iu":
            return torch.from_numpy(array.astype(np.int32))
        if array.dtype.kind == "f":
            return torch.from_numpy(array.astype(np.float32))
    return as_tensor(labels)


def densify(bounding_boxes, device):
    """Validates a `{"boxes", "labels"}` dict and returns a copy with `"boxes"` a float32
    tensor and `"labels"` a tensor, both on `device` (Keras's `densify_bounding_boxes`)."""
    if not (isinstance(bounding_boxes, dict) and "boxes" in bounding_boxes
            and "labels" in bounding_boxes):
        raise ValueError(
            "Expected `bounding_boxes` argument to be a dict with keys 'boxes' and 'labels'. "
            f"Received: bounding_boxes={bounding_boxes}"
        )
    boxes = as_tensor(bounding_boxes["boxes"], "float32", device)
    labels = _labels_tensor(bounding_boxes["labels"]).to(device)
    if boxes.ndim not in (2, 3) or boxes.shape[-1] != 4:
        raise ValueError(
            "Expected `bounding_boxes['boxes']` to have rank 2 or 3, with shape "
            "(num_boxes, 4) or (batch_size, num_boxes, 4). "
            f"Received: bounding_boxes['boxes'].shape={tuple(boxes.shape)}"
        )
    if labels.ndim not in (boxes.ndim - 1, boxes.ndim):
        raise ValueError(
            f"Found bounding_boxes['boxes'].shape={tuple(boxes.shape)} and expected "
            f"bounding_boxes['labels'] to have rank {boxes.ndim - 1} or {boxes.ndim}, but "
            f"received: bounding_boxes['labels'].shape={tuple(labels.shape)}"
        )
    out = dict(bounding_boxes)
    out["boxes"], out["labels"] = boxes, labels
    return out


def batch(bounding_boxes, unbatched):
    """Adds (or, with `unbatched=False`, keeps) the batch axis of `"boxes"` and `"labels"`."""
    if not unbatched:
        return bounding_boxes
    out = dict(bounding_boxes)
    out["boxes"], out["labels"] = out["boxes"].unsqueeze(0), out["labels"].unsqueeze(0)
    return out


def unbatch(bounding_boxes, unbatched):
    """Removes the batch axis `batch` added."""
    if not unbatched:
        return bounding_boxes
    out = dict(bounding_boxes)
    out["boxes"], out["labels"] = out["boxes"].squeeze(0), out["labels"].squeeze(0)
    return out


def read_boxes(layer, data, unbatched, device):
    """The batched, densified boxes of dict input `data` (`None` if it has none), after
    checking the layer can take them and was given a `bounding_box_format`."""
    if "segmentation_masks" in data and not getattr(layer, "_KEEPS_GEOMETRY", False):
        raise unsupported(layer, "segmentation_masks")
    if "bounding_boxes" not in data:
        return None
    check_format(layer)
    return batch(densify(data["bounding_boxes"], device), unbatched)


def image_size(images, data_format):
    """`(height, width)` of a batched image tensor."""
    if data_format == "channels_first":
        return images.shape[2], images.shape[3]
    return images.shape[1], images.shape[2]


class DeterministicDictInput:
    """Dict inputs for the image layers without randomness (`Resizing`, `CenterCrop`,
    `MaxNumBoundingBoxes`): images through `call`, boxes through
    `transform_bounding_boxes(bounding_boxes, image_size)`, labels kept. Mixed in before
    `Layer`; a dict is eager data (a pipeline), never a symbolic input."""

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], dict):
            return self._call_dict(args[0])
        return super().__call__(*args, **kwargs)

    def _call_dict(self, data):
        if "images" not in data:
            raise ValueError(
                f'{_layer_name(self)} expects a dict input with an "images" key. '
                f"Received keys: {sorted(data)}"
            )
        images = as_tensor(data["images"])
        if images.ndim not in (3, 4):
            raise ValueError(
                f"{_layer_name(self)} expects images of rank 3 (single image) or 4 (batch of "
                f"images). Received: data['images'].shape={tuple(images.shape)}"
            )
        unbatched = images.ndim == 3
        boxes = read_boxes(self, data, unbatched, images.device)
        out = dict(data)
        out["images"] = self.call(images)
        if boxes is not None:
            batched = images.unsqueeze(0) if unbatched else images
            size = image_size(batched, self.data_format)
            out["bounding_boxes"] = unbatch(self.transform_bounding_boxes(boxes, size), unbatched)
        if "labels" in data:
            out["labels"] = as_tensor(data["labels"], device=images.device)
        return out
