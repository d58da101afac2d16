"""The module that is traced for export: flat positional tensors in, flat tensors out.

A model may take a list or a dict of inputs and return a list or a dict; exported artifacts
(a `.pt2` program, an ONNX graph) take one positional tensor per input, in the order of
`model.inputs`, and return one tensor per output, in the order of `model.outputs`.
"""

import torch

from keraslike.graph import nest


class FlatModule(torch.nn.Module):
    """Wraps `model` so that it takes and returns flat tensors.

    Args:
        model: The keraslike model; registered as a submodule, so the wrapper's `state_dict()`
            is the model's with a `model.` prefix.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self._input_struct = model.input
        self._num_inputs = len(model.inputs)

    def forward(self, *inputs):
        if self._num_inputs == 1:
            outputs = self.model(inputs[0], training=False)
        else:
            outputs = self.model(nest.pack_like(self._input_struct, list(inputs)), training=False)
        flat = nest.flatten(outputs)
        return flat[0] if len(flat) == 1 else tuple(flat)
