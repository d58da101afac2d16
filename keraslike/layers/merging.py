"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""

import torch
import torch.nn.functional as F

from keraslike.backend.errors import AxisOutOfRangeError
from keraslike.layers.layer import Layer


def _broadcast_shape(layer_name, shapes):
    rank = max(len(s) for s in shapes)
    result = []
    for axis in range(-rank, 0):
        dims = {s[axis] for s in shapes if len(s) >= -axis}
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(
                f'Inputs of layer "{layer_name}" have incompatible shapes: '
                f"{[tuple(s) for s in shapes]} (axis {axis} has sizes {sorted(known)})."
            )
        if known:
            result.append(known.pop())
        elif None in dims:
            result.append(None)
        else:
            result.append(1)
    return tuple(result)


class Merge(Layer):
    """Base of the element-wise merging layers: takes a list of tensors of broadcastable shapes."""

    min_inputs = 1  # Keras 3: one input passes through (`Add()([x])` is `x`)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
            input_shape[0], (list, tuple)
        ):
            raise ValueError(
                f'A merge layer ("{self.name}") should be called on a list of inputs. '
                f"Received: input_shape={input_shape}"
            )
        if len(input_shape) < self.min_inputs:
            raise ValueError(
                f'A merge layer ("{self.name}") should be called on a list of at least '
                f"{self.min_inputs} inputs. Got {len(input_shape)} inputs."
            )

    def build(self, input_shape):
        self._check_inputs(input_shape)
        _broadcast_shape(self.name, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        shape = _broadcast_shape(self.name, input_shape)
        batch = [s[0] for s in input_shape if s[0] is not None]
        return ((batch[0] if batch else None),) + shape[1:]

    def compute_mask(self, inputs, previous_mask=None):
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        masks = [m for m in previous_mask if m is not None]
        result = masks[0]
        for m in masks[1:]:
            result = result & m
        return result

    def call(self, inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = self._merge(result, x)
        return result

    _layout_free = True  # graph/layout.py: element by element, any layout of equal-rank inputs

    def _channels_first_call(self, rank):
        return self.call


class Add(Merge):
    """Adds a list of inputs element-wise (shapes must broadcast).

    Example:

    ```python
    added = keras.layers.Add()([x1, x2])
    ```
    """

    def _merge(self, a, b):
        return a + b


class Subtract(Merge):
    """Subtracts the second of two inputs from the first."""

    def _check_inputs(self, input_shape):
        super()._check_inputs(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f'A `Subtract` layer ("{self.name}") should be called on exactly 2 inputs. '
                f"Received: {len(input_shape)} inputs."
            )

    def _merge(self, a, b):
        return a - b


class Multiply(Merge):
    """Multiplies a list of inputs element-wise."""

    def _merge(self, a, b):
        return a * b

    def _fusion_form(self):
        # What `call` computes, for graph/fusion.py's elementwise rules (re-read per call).
        return ("multiply",)


class Maximum(Merge):
    """Element-wise maximum of a list of inputs."""

    def _merge(self, a, b):
        return torch.maximum(a, b)


class Minimum(Merge):
    """Element-wise minimum of a list of inputs."""

    def _merge(self, a, b):
        return torch.minimum(a, b)


class Average(Merge):
    """Averages a list of inputs element-wise."""

    def call(self, inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = result + x
        return result / len(inputs)


class Concatenate(Layer):
    """Concatenates a list of inputs along `axis`; all other dimensions must match.

    Args:
        axis: The concatenation axis (default -1).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
            input_shape[0], (list, tuple)
        ):
            raise ValueError(
                f'A `Concatenate` layer ("{self.name}") should be called on a list of inputs. '
                f"Received: input_shape={input_shape}"
            )
        ranks = {len(s) for s in input_shape}
        if len(ranks) != 1:
            raise ValueError(
                f'A `Concatenate` layer ("{self.name}") requires inputs of the same rank. '
                f"Received: input_shape={[tuple(s) for s in input_shape]}"
            )
        rank = ranks.pop()
        axis = _checked_axis(self, "axis", self.axis, rank, input_shape)
        output = list(input_shape[0])
        for shape in input_shape[1:]:
            for i, (a, b) in enumerate(zip(output, shape)):
                if i == axis:
                    output[i] = None if a is None or b is None else a + b
                elif a is not None and b is not None and a != b:
                    raise ValueError(
                        f'A `Concatenate` layer ("{self.name}") requires inputs with matching '
                        "shapes except for the concatenation axis. Received: "
                        f"input_shape={[tuple(s) for s in input_shape]}"
                    )
                elif a is None:
                    output[i] = b
        return tuple(output)

    def call(self, inputs):
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs, previous_mask=None):
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        masks = []
        for x, m in zip(inputs, previous_mask):
            if m is None:
                m = torch.ones_like(x, dtype=torch.bool)
            elif m.ndim < x.ndim:
                m = m.unsqueeze(-1).expand(x.shape)
            masks.append(m)
        return torch.cat(masks, dim=self.axis).any(dim=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Layer):
    """Dot product between samples of two tensors along `axes`.

    Args:
        axes: Integer or pair of integers, the axes to reduce.
        normalize: Whether to L2-normalize along the axes first (cosine proximity).
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True  # accepts masked inputs; its output has no mask (Keras)

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def build(self, input_shape):
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2
                or not all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(
                f'A `Dot` layer ("{self.name}") should be called on a list of 2 inputs. '
                f"Received: input_shape={input_shape}"
            )
        a, b = (tuple(s) for s in input_shape)
        ax_a, ax_b = self._axes([a, b])
        if a[ax_a] is not None and b[ax_b] is not None and a[ax_a] != b[ax_b]:
            raise ValueError(  # Keras's text, with the layer
                f'Layer "{self.name}" (Dot): incompatible input shapes: axis values {a[ax_a]} '
                f"(at axis {ax_a}) != {b[ax_b]} (at axis {ax_b}). Full input shapes: {a}, {b}"
            )
        self.built = True

    def _axes(self, shapes):
        axes = self.axes if isinstance(self.axes, (list, tuple)) else (self.axes, self.axes)
        return [_checked_axis(self, "axes", a, len(s), shapes) for a, s in zip(axes, shapes)]

    def call(self, inputs):
        a, b = inputs
        ax_a, ax_b = self._axes([a.shape, b.shape])
        if self.normalize:
            a = F.normalize(a, dim=ax_a)
            b = F.normalize(b, dim=ax_b)
        return _batch_dot(a, b, ax_a, ax_b)

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _checked_axis(layer, argument, axis, rank, shapes):
    """`axis` as a non-negative index into a shape of `rank` dimensions; out of range, an
    IndexError as Keras's (which indexes the shapes with it) naming the layer."""
    if not -rank <= axis < rank:
        raise AxisOutOfRangeError(
            f'Invalid value for argument `{argument}` of layer "{layer.name}" '
            f"({type(layer).__name__}): axis {axis} is out of bounds for inputs of rank {rank}. "
            f"Received: {argument}={getattr(layer, argument)}, input shapes "
            f"{[tuple(s) for s in shapes]}"
        )
    return axis % rank


def _batch_dot(a, b, ax_a, ax_b):
    # Move the reduced axes last/first and contract per sample.
    a = a.movedim(ax_a, -1)
    b = b.movedim(ax_b, 1)
    a2 = a.reshape(a.shape[0], -1, a.shape[-1])
    b2 = b.reshape(b.shape[0], b.shape[1], -1)
    out = torch.bmm(a2, b2).reshape(a.shape[:-1] + b.shape[2:])
    if out.ndim == 1:
        out = out.unsqueeze(-1)
    return out


def _functional(cls, doc):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = doc
    return merge


add = _functional(Add, "Functional form of `Add`: `add([x1, x2])`.")
subtract = _functional(Subtract, "Functional form of `Subtract`.")
multiply = _functional(Multiply, "Functional form of `Multiply`.")
average = _functional(Average, "Functional form of `Average`.")
maximum = _functional(Maximum, "Functional form of `Maximum`.")
minimum = _functional(Minimum, "Functional form of `Minimum`.")


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: `concatenate([x1, x2], axis=-1)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional form of `Dot`."""
    return Dot(axes=axes, **kwargs)(inputs)
