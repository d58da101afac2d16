"""Graph discovery and validation: from a model's outputs back to its inputs, once, at construction.

The order of nodes and operations is Keras's (by decreasing depth from the outputs, ties broken
by discovery order), so `model.layers` and `summary()` list layers as Keras does. The walk is
iterative: a 1,000-layer chain needs no raised recursion limit.
"""

from keraslike.graph.keras_tensor import KerasTensor


class GraphMap:
    """The nodes and operations between a model's inputs and outputs.

    Attributes:
        nodes: Nodes to execute, in a topological order (inputs first).
        operations: Operations in Keras's order (inputs first, by decreasing depth).
        node_depth: Dict node -> depth (0 at the outputs).
    """

    def __init__(self, nodes, operations, node_depth):
        self.nodes = nodes
        self.operations = operations
        self.node_depth = node_depth


def _describe_inputs(inputs):
    return [t._keras_history[0].name if t._keras_history else t.name for t in inputs]


def map_graph(inputs, outputs):
    """Walks back from `outputs` to `inputs` and returns the graph between them.

    Args:
        inputs: Flat list of the model's input KerasTensors.
        outputs: Flat list of the model's output KerasTensors.

    Returns:
        A `GraphMap`.

    Raises:
        ValueError: When an output cannot be computed from the inputs ("Graph disconnected")
            or when the graph has a cycle. An input no output depends on is kept (Keras 3
            accepts it; the model ignores its data).
    """
    input_ids = {id(t) for t in inputs}
    finished = set()
    in_progress = set()
    nodes_in_decreasing_depth = []
    operation_index = {}

    for output in outputs:
        # Iterative DFS; each stack entry is (tensor, the node that consumed it, expanded?).
        stack = [(output, None, False)]
        while stack:
            tensor, consumer, expanded = stack.pop()
            operation, node_index, _ = tensor._keras_history
            node = operation._inbound_nodes[node_index]
            if expanded:
                in_progress.discard(node)
                finished.add(node)
                nodes_in_decreasing_depth.append(node)
                continue
            if node in finished:
                continue
            if node in in_progress:
                raise ValueError(
                    f"The graph has a cycle: tensor {tensor.name!r} from layer "
                    f'"{operation.name}" depends on itself.'
                )
            if operation not in operation_index:
                operation_index[operation] = len(operation_index)
            in_progress.add(node)
            stack.append((tensor, consumer, True))
            if id(tensor) in input_ids:
                continue
            if node.is_input:
                needed_by = f'layer "{consumer.operation.name}"' if consumer else "the outputs"
                raise ValueError(
                    f"Graph disconnected: cannot obtain value for tensor {tensor.name!r} "
                    f'of input "{operation.name}" (shape {tensor.shape}), which {needed_by} '
                    f"needs. The model's inputs are {_describe_inputs(inputs)}: add "
                    f'"{operation.name}" to the model\'s inputs, or build the path from one of them.'
                )
            for parent_tensor in reversed(node.input_tensors):
                stack.append((parent_tensor, node, False))

    # An input no output depends on is accepted, as Keras 3 accepts it: the model takes its
    # data and ignores it. Its InputLayer is still one of the model's operations.
    unused_inputs = []
    for tensor in inputs:
        node = tensor._keras_history[0]._inbound_nodes[tensor._keras_history[1]]
        if node not in finished:
            finished.add(node)
            unused_inputs.append(node)
            operation_index.setdefault(node.operation, len(operation_index))

    node_depth = {}
    operation_depth = {}
    for node in reversed(nodes_in_decreasing_depth):
        depth = max(node_depth.setdefault(node, 0), operation_depth.get(node.operation, 0))
        operation_depth[node.operation] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in finished:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))

    deepest = max(node_depth.values(), default=0)
    for node in unused_inputs:  # listed with the other inputs (first in `model.layers`)
        node_depth[node] = operation_depth[node.operation] = deepest
        nodes_in_decreasing_depth.insert(0, node)

    by_depth = {}
    for operation, depth in operation_depth.items():
        by_depth.setdefault(depth, []).append(operation)
    operations = []
    for depth in sorted(by_depth, reverse=True):
        operations.extend(sorted(by_depth[depth], key=operation_index.__getitem__))

    # Execution order: by decreasing node depth, stable on discovery order (a topological order).
    position = {node: i for i, node in enumerate(nodes_in_decreasing_depth)}
    nodes = sorted(nodes_in_decreasing_depth, key=lambda n: (-node_depth[n], position[n]))
    return GraphMap(nodes, operations, node_depth)


def check_unique_names(operations, model_name):
    """Raises ValueError when two distinct layers of one model share a name."""
    seen = {}
    for operation in operations:
        other = seen.setdefault(operation.name, operation)
        if other is not operation:
            raise ValueError(
                f'The name "{operation.name}" is used 2 times in the model "{model_name}" '
                f"(by a {type(other).__name__} and a {type(operation).__name__}). "
                "All layer names should be unique."
            )


def is_input_tensor(x):
    """Whether `x` is a KerasTensor produced by an `Input`."""
    return isinstance(x, KerasTensor) and x._keras_history is not None and x.node.is_input
