"""Node: the record of one call of a layer or op on symbolic tensors."""

from keraslike.graph.keras_tensor import symbolic_tensors


class Node:
    """One call of an operation (a layer, a model or an op) on symbolic tensors.

    Args:
        operation: What was called; anything with `name` and `_inbound_nodes`.
        call_args: The positional arguments of the call, KerasTensors at the leaves.
        call_kwargs: The keyword arguments of the call.
        outputs: The structure of fresh KerasTensors the call returned.
    """

    __slots__ = ("operation", "call_args", "call_kwargs", "outputs", "input_tensors", "output_tensors")

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = outputs
        self.input_tensors = symbolic_tensors((self.call_args, self.call_kwargs))
        self.output_tensors = symbolic_tensors(outputs)
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for tensor_index, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (operation, node_index, tensor_index)

    @property
    def is_input(self):
        """Whether this node is an `Input` (it has no inputs of its own)."""
        return not self.input_tensors

    @property
    def parent_nodes(self):
        """The nodes that produced this node's inputs."""
        return [t.node for t in self.input_tensors if t.node is not None]

    def __repr__(self):
        return f"<Node operation={self.operation.name}, inputs={len(self.input_tensors)}>"
