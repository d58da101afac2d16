"""A functional model given intermediate tensors as inputs gets its own `Input`s, as in Keras.

`keras.Model(inputs=some_layer_output, outputs=...)` is legal: Keras replaces each input that
is not an `Input` tensor by a new `Input` named `<tensor name>CLONE` and records the calls
between the inputs and the outputs again on the new tensors (`clone_graph_nodes`). The layers
that produced the intermediate tensors are then not part of the model: not in its `layers`,
weights or config, and their own graph is left untouched.
"""

from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.node import Node
from keraslike.graph.topology import is_input_tensor, map_graph
from keraslike.layers.input_layer import Input, InputLayer


def with_input_tensors(inputs, outputs):
    """`(inputs, outputs)` unchanged when every input is an `Input` tensor; otherwise new
    structures where each other input is a fresh `Input` and the outputs are computed from
    them by re-recorded calls of the same layers (as Keras's `clone_graph_nodes`)."""
    flat_inputs = nest.flatten(inputs)
    if all(is_input_tensor(t) for t in flat_inputs):
        return inputs, outputs
    flat_outputs = nest.flatten(outputs)
    masks = [m for m in (getattr(t, "_keras_mask", None) for t in flat_outputs)
             if isinstance(m, KerasTensor)]
    graph = map_graph(flat_inputs, flat_outputs + masks)
    mapping = {}
    for tensor in flat_inputs:
        if is_input_tensor(tensor):
            mapping[id(tensor)] = tensor
            continue
        operation = tensor._keras_history[0]
        mapping[id(tensor)] = Input(
            batch_shape=tensor.shape,
            dtype=tensor.dtype,
            name=f"{tensor.name}CLONE",
            optional=isinstance(operation, InputLayer) and operation.optional,
        )
    for node in graph.nodes:
        if node.is_input or all(id(t) in mapping for t in node.output_tensors):
            continue  # an `Input`, or the call that made an intermediate input: not recorded
        outputs_copy = nest.map_structure(lambda x: _clone(x, mapping), node.outputs)
        args, kwargs = nest.map_structure(lambda x: _mapped(x, mapping), (node.call_args, node.call_kwargs))
        Node(node.operation, args, kwargs, outputs_copy)
    for tensor in graph_tensors(graph):  # masks travel with the tensors they belong to
        clone = mapping.get(id(tensor))
        mask = getattr(tensor, "_keras_mask", None)
        if clone is not None and clone is not tensor and isinstance(mask, KerasTensor):
            clone._keras_mask = mapping.get(id(mask), mask)
    return (nest.map_structure(lambda x: _mapped(x, mapping), inputs),
            nest.map_structure(lambda x: _mapped(x, mapping), outputs))


def graph_tensors(graph):
    """Every output tensor of the graph's nodes."""
    return [t for node in graph.nodes for t in node.output_tensors]


def _mapped(x, mapping):
    return mapping.get(id(x), x) if isinstance(x, KerasTensor) else x


def _clone(x, mapping):
    if not isinstance(x, KerasTensor):
        return x
    if id(x) not in mapping:
        mapping[id(x)] = KerasTensor(x.shape, dtype=x.dtype, name=x.name)
    return mapping[id(x)]
