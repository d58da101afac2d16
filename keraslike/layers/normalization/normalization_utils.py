"""Checks and constants the normalization layers share."""

import torch

from keraslike.backend.errors import AxisOutOfRangeError


_MASK_EPSILON = 1e-7  # keras.backend.epsilon(), used by Keras's masked moments
_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _check_axes(layer, axes, input_shape, argument="axis"):
    """Returns `axes` (int or list) as sorted positive ints, or raises a ValueError."""
    ndim = len(input_shape)
    listed = axes if isinstance(axes, (list, tuple)) else [axes]
    for a in listed:
        if not isinstance(a, int) or isinstance(a, bool) or not -ndim <= a < ndim:
            # Keras indexes the shape with it (IndexError); ours names the layer and the axis.
            raise AxisOutOfRangeError(
                f'Invalid value for argument `{argument}` of layer "{layer.name}": axis {a} is '
                f"out of bounds for input shape {tuple(input_shape)} (rank {ndim}). "
                f"Received: {argument}={axes}"
            )
    positive = sorted(a % ndim for a in listed)
    if len(set(positive)) != len(positive):
        raise ValueError(
            f'Invalid value for argument `{argument}` of layer "{layer.name}": repeated axes. '
            f"Received: {argument}={axes}"
        )
    return positive


def _check_defined(layer, input_shape, axes):
    for a in axes:
        if input_shape[a] is None:
            raise ValueError(
                f'Axis {a} of the input of layer "{layer.name}" must have a defined size, but '
                f"the layer received an input with shape {tuple(input_shape)}."
            )
