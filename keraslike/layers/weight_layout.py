"""Conversions between a weight's Keras layout (files, get_weights) and its torch layout (storage).

Each layer declares, once, the layout of each weight it creates; `get_weights`, `set_weights`,
`layer.kernel`-style attributes and file importers all go through that declaration.
"""


class Layout:
    """Identity layout: the Keras and torch layouts are the same."""

    def to_torch(self, keras_value):
        """Returns the torch-layout tensor for a Keras-layout tensor (a view where possible)."""
        return keras_value

    def to_keras(self, torch_value):
        """Returns the Keras-layout tensor for a torch-layout tensor (a view where possible)."""
        return torch_value

    def keras_shape(self, torch_shape):
        """Returns the Keras shape of a weight stored with `torch_shape`."""
        return tuple(torch_shape)

    def delta_to_torch(self, keras_delta):
        """Returns a difference of Keras-layout values (a gradient, an increment) in torch's
        layout: the linear part of `to_torch`, which is `to_torch` itself for every layout that
        only moves or reshapes entries."""
        return self.to_torch(keras_delta)

    def delta_to_keras(self, torch_delta):
        """Returns a difference of torch-layout values (a gradient) in Keras's layout."""
        return self.to_keras(torch_delta)


class Permuted(Layout):
    """A layout where the torch tensor is the Keras tensor with its axes permuted.

    Args:
        keras_to_torch: The permutation taking Keras axes to torch axes, as given to
            `tensor.permute` (Dense: `(1, 0)`; Conv2D `(kh, kw, in, out)` -> `(out, in, kh, kw)`:
            `(3, 2, 0, 1)`).
    """

    def __init__(self, keras_to_torch):
        self.keras_to_torch = tuple(keras_to_torch)
        inverse = [0] * len(self.keras_to_torch)
        for torch_axis, keras_axis in enumerate(self.keras_to_torch):
            inverse[keras_axis] = torch_axis
        self.torch_to_keras = tuple(inverse)

    def to_torch(self, keras_value):
        return keras_value.permute(self.keras_to_torch)

    def to_keras(self, torch_value):
        return torch_value.permute(self.torch_to_keras)

    def keras_shape(self, torch_shape):
        return tuple(torch_shape[i] for i in self.torch_to_keras)


class GradientLayout(Layout):
    """The linear part of `layout`, for gradients and per-entry statistics of them (optimizer
    slots): the same moves and reshapes, without an affine layout's constant.

    Args:
        layout: The weight's `Layout`.
    """

    def __init__(self, layout):
        self.layout = layout

    def to_torch(self, keras_value):
        return self.layout.delta_to_torch(keras_value)

    def to_keras(self, torch_value):
        return self.layout.delta_to_keras(torch_value)

    def keras_shape(self, torch_shape):
        return self.layout.keras_shape(torch_shape)


IDENTITY = Layout()
TRANSPOSED = Permuted((1, 0))


def conv_layout(rank):
    """Keras `(*kernel, in, out)` <-> torch `(out, in, *kernel)` for a `rank`-D convolution."""
    return Permuted((rank + 1, rank) + tuple(range(rank)))


def conv_transpose_layout(rank):
    """Keras `(*kernel, out, in)` <-> torch `(in, out, *kernel)` for a transposed convolution."""
    return Permuted((rank + 1, rank) + tuple(range(rank)))
