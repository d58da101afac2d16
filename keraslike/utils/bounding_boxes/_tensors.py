"""Tensor conversion shared by the bounding-box utilities (numpy, lists and torch tensors in,
torch tensors out, as Keras's torch backend returns)."""

import numpy as np
import torch

from keraslike.graph.shape_inference import torch_dtype


def as_tensor(value, dtype=None, device=None):
    """`value` as a torch tensor (of `dtype` when given; on `device` when given)."""
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(value))
    else:
        tensor = torch.as_tensor(np.asarray(value))
    if dtype is not None:
        tensor = tensor.to(torch_dtype(dtype))
    if device is not None:
        tensor = tensor.to(device)
    return tensor


def split4(boxes):
    """The four coordinates of `boxes` `(..., 4)`, each `(..., 1)`."""
    return torch.split(boxes, 1, dim=-1)
