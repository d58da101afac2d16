"""Weight layouts of the recurrent layers: Keras's gates and bias outside, torch's inside.

Keras keeps a kernel `(input_dim, gates * units)`; torch's `nn.LSTM`/`nn.GRU`/`nn.RNN` keep
`weight_ih_l0` `(gates * units, input_dim)`. LSTM gates (i, f, c, o) are in the same order in both;
GRU gates are (z, r, h) in Keras and (r, z, n) in torch. These conversions run in
`get_weights`/`set_weights` (and `layer.weights`, `layer.kernel`-style attributes) only, never
per call.
"""

import torch

from keraslike.layers.weight_layout import Layout


def _reorder(tensor, perm, gates, axis=-1):
    chunks = tensor.chunk(gates, dim=axis)
    return torch.cat([chunks[p] for p in perm], dim=axis)


class GateLayout(Layout):
    """Keras `(..., gates * units)` with Keras gate order <-> torch layout with torch gate order.

    Args:
        gates: Number of gates stacked along the Keras last axis.
        torch_order: For each torch gate position, the Keras gate index it holds
            (GRU: `(1, 0, 2)`, torch r,z,n from Keras z,r,h). Must be its own inverse.
        transpose: Whether the torch tensor is the transpose of the Keras one (kernels: yes,
            biases: no).
    """

    def __init__(self, gates, torch_order, transpose):
        self.gates = gates
        self.order = tuple(torch_order)
        if tuple(self.order[i] for i in self.order) != tuple(range(gates)):
            raise ValueError(f"Gate order {self.order} must be its own inverse.")
        self.transpose = transpose

    def to_torch(self, keras_value):
        value = _reorder(keras_value, self.order, self.gates, axis=-1)
        return value.transpose(0, 1) if self.transpose else value

    def to_keras(self, torch_value):
        value = torch_value.transpose(0, 1) if self.transpose else torch_value
        return _reorder(value, self.order, self.gates, axis=-1)

    def keras_shape(self, torch_shape):
        shape = tuple(torch_shape)
        return (shape[1], shape[0]) + shape[2:] if self.transpose else shape


class SummedBias(Layout):
    """Keras's single bias = torch's `bias_ih` (stored here) + the layer's `bias_hh` buffer.

    `nn.LSTM`/`nn.RNN` add two biases; Keras has one. The trainable one is `bias_ih_l0`; the
    layer also keeps a `bias_hh_l0` buffer (zero unless a torch state dict set it), so that its
    `state_dict()` has `nn.LSTM`'s keys. Keras's bias is their sum.

    Args:
        owner: The layer holding the buffer.
        buffer_name: The buffer's attribute name.
    """

    def __init__(self, owner, buffer_name="bias_hh_l0"):
        self.owner = owner
        self.buffer_name = buffer_name

    def _extra(self):
        return self.owner._buffers.get(self.buffer_name)

    def to_torch(self, keras_value):
        extra = self._extra()
        if extra is None:
            return keras_value
        return keras_value - extra.to(keras_value.device, keras_value.dtype)

    def to_keras(self, torch_value):
        extra = self._extra()
        if extra is None:
            return torch_value
        return torch_value + extra

    def delta_to_torch(self, keras_delta):
        # The gradient of Keras's bias is `bias_ih`'s (the buffer is a constant term).
        return keras_delta

    def delta_to_keras(self, torch_delta):
        return torch_delta


# torch GRU gate positions (r, z, n) hold Keras gates (r=1, z=0, h=2).
GRU_ORDER = (1, 0, 2)
