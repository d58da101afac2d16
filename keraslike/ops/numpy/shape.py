"""NumPy-style shape ops: reshape, transpose, expand/squeeze, concatenate, split, tile, flip."""

import builtins

import numpy as np
import torch

from keraslike.ops.core import first_device, to_tensor
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _canonical, _dims, _t


# ----------------------------------------------------------------------------------------------
# Shapes and rearrangement.


@keras_op
def reshape(x, newshape):
    """Reshapes `x` (`-1` infers one dimension; one `None` is taken as `-1`)."""
    if isinstance(newshape, np.ndarray):  # a shape computed with NumPy, as Keras takes it
        newshape = newshape.tolist()
    if not isinstance(newshape, (list, tuple)):
        newshape = (newshape,)
    newshape = tuple(-1 if d is None else int(d) if isinstance(d, np.integer) else d for d in newshape)
    return torch.reshape(_t(x), newshape)


@keras_op
def transpose(x, axes=None):
    """Permutes the axes (reverses them when `axes` is `None`)."""
    x = _t(x)
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return x.permute(tuple(axes))


@keras_op
def moveaxis(x, source, destination):
    """Moves axes `source` to positions `destination`."""
    return torch.movedim(_t(x), source, destination)


@keras_op
def swapaxes(x, axis1, axis2):
    """Swaps two axes."""
    return torch.swapaxes(_t(x), axis1, axis2)


@keras_op
def expand_dims(x, axis):
    """Inserts length-1 axes at `axis` (an int or a tuple of ints)."""
    x = _t(x)
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    out_ndim = x.ndim + len(axes)
    for a in sorted(_canonical(a, out_ndim) for a in axes):
        x = torch.unsqueeze(x, a)
    return x


@keras_op
def squeeze(x, axis=None):
    """Removes length-1 axes (only those in `axis` when given)."""
    x = _t(x)
    if axis is None:
        return torch.squeeze(x)
    return torch.squeeze(x, dim=_dims(axis))


@keras_op
def ravel(x):
    """Flattens to 1-D."""
    return torch.reshape(_t(x), (-1,))


@keras_op
def broadcast_to(x, shape):
    """Broadcasts `x` to `shape` (a view)."""
    return torch.broadcast_to(_t(x), tuple(shape))


def _tensor_list(xs):
    device = first_device(*xs)
    return [x if isinstance(x, torch.Tensor) else to_tensor(x, device=device) for x in xs]


@keras_op
def concatenate(xs, axis=0):
    """Joins tensors along an existing `axis` (flattened first when `axis` is `None`)."""
    xs = _tensor_list(xs)
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


@keras_op
def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (both flattened when `None`)."""
    return concatenate.eager([x1, x2], axis=axis)


@keras_op
def stack(x, axis=0):
    """Joins tensors along a new `axis`."""
    return torch.stack(_tensor_list(x), dim=axis)


@keras_op
def hstack(xs):
    """Stacks horizontally (along axis 1, or 0 for 1-D inputs)."""
    return torch.hstack(_tensor_list(xs))


@keras_op
def vstack(xs):
    """Stacks vertically (along axis 0, 1-D inputs as rows)."""
    return torch.vstack(_tensor_list(xs))


@keras_op
def split(x, indices_or_sections, axis=0):
    """Splits into equal sections (an int that must divide the axis) or at indices; a list."""
    x = _t(x)
    if isinstance(indices_or_sections, int):
        size = x.shape[axis]
        if size % indices_or_sections != 0:
            raise ValueError(
                f"Received indices_or_sections={indices_or_sections} (interpreted as a number "
                f"of sections) and axis={axis}, but x.shape[{axis}]={size} is not divisible by it. "
                f"Full input shape: x.shape={tuple(x.shape)}"
            )
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    if isinstance(indices_or_sections, torch.Tensor):
        indices_or_sections = indices_or_sections.tolist()
    return list(torch.tensor_split(x, list(indices_or_sections), dim=axis))


@keras_op
def array_split(x, indices_or_sections, axis=0):
    """Splits into `indices_or_sections` nearly equal sections (or at indices); a list."""
    return list(torch.tensor_split(_t(x), indices_or_sections, dim=axis))


@keras_op
def tile(x, repeats):
    """Repeats the whole tensor `repeats` times along each axis."""
    if isinstance(repeats, torch.Tensor):
        repeats = tuple(repeats.tolist())
    if isinstance(repeats, int):
        repeats = (repeats,)
    return torch.tile(_t(x), tuple(repeats))


@keras_op
def repeat(x, repeats, axis=None):
    """Repeats each element `repeats` times along `axis` (of the flattened tensor when `None`)."""
    x = _t(x)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if isinstance(repeats, float):  # Keras converts `repeats` to integers
        repeats = int(repeats)
    elif isinstance(repeats, torch.Tensor) and repeats.dtype != torch.int64:
        repeats = repeats.to(torch.int64)
    elif not isinstance(repeats, (int, list, tuple, torch.Tensor)):  # a NumPy array or integer
        repeats = to_tensor(repeats, dtype="int64", device=x.device)  # floats truncated, as Keras
        repeats = int(repeats) if repeats.ndim == 0 else repeats
    if isinstance(repeats, (list, tuple)):
        if len(repeats) == 1:
            repeats = repeats[0]
        else:
            total = builtins.sum(repeats)
            repeats = torch.tensor(repeats, device=x.device)
            return torch.repeat_interleave(x, repeats, dim=axis, output_size=total)
    return torch.repeat_interleave(x, repeats, dim=axis)


@keras_op
def flip(x, axis=None):
    """Reverses the order of elements along `axis` (all axes when `None`)."""
    x = _t(x)
    if axis is None:
        axis = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axis = (axis,)
    return torch.flip(x, dims=tuple(axis))


@keras_op
def roll(x, shift, axis=None):
    """Rolls elements by `shift` along `axis` (of the flattened tensor when `None`)."""
    return torch.roll(_t(x), shift, dims=axis)


