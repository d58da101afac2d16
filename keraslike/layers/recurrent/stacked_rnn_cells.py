"""StackedRNNCells: several cells acting as one (each step feeds one cell's output to the next)."""

import torch

from keraslike.layers.layer import Layer, _call_signature
from keraslike.layers.recurrent._serialization import (
    build_sublayer,
    deserialize_layer,
    serialize_layer,
)


def _output_size(cell):
    if getattr(cell, "output_size", None) is not None:
        return cell.output_size
    if isinstance(cell.state_size, (list, tuple)):
        return cell.state_size[0]
    return cell.state_size


class StackedRNNCells(Layer):
    """Wrapper allowing a stack of RNN cells to behave as a single cell (`RNN([c1, c2])`).

    Args:
        cells: List of RNN cell instances.

    Example:

    ```python
    cells = [keras.layers.LSTMCell(8), keras.layers.LSTMCell(8)]
    y = keras.layers.RNN(cells)(keras.Input((None, 5)))  # y.shape == (None, 8)
    ```
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(
                    "All cells must have a `call` method. Received cell without a `call` "
                    f"method: {cell}"
                )
            if getattr(cell, "state_size", None) is None:
                raise ValueError(
                    "All cells must have a `state_size` attribute. Received cell without a "
                    f"`state_size`: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        dtype = getattr(torch, self.compute_dtype)
        states = []
        for cell in self.cells:
            get_fn = getattr(cell, "get_initial_state", None)
            if get_fn is not None:
                states.append(get_fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(torch.zeros((batch_size, cell.state_size), dtype=dtype))
            else:
                states.append([torch.zeros((batch_size, d), dtype=dtype) for d in cell.state_size])
        return states

    def call(self, inputs, states, training=None):
        if training is None:
            training = self.training
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            is_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if is_list else [cell_states]
            kwargs = {}
            if isinstance(cell, Layer) and _call_signature(type(cell))[0]:
                kwargs["training"] = training
            inputs, cell_states = cell(inputs, cell_states, **kwargs)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not is_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        batch = tuple(input_shape)[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                build_sublayer(cell, tuple(input_shape))
            input_shape = (batch, _output_size(cell))
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_layer(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
