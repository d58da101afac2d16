"""Peephole fusion of execution-plan steps: short elementwise chains run as one torch call.

Keras graphs spell some activations as chains of nodes (Keras's MobileNetV3 writes
`hard_sigmoid(x)` as `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)`), which costs one kernel launch and one
plan step per node. When a plan compiles its direct steps it looks for these chains and runs
each as one torch function instead:

- hard sigmoid: `x + 3` -> `clip(0, 6)` -> `* (1/6)` (or `/ 6`)   =>  `F.hardsigmoid(x)`
- hard swish: `x * hard_sigmoid(x)` (either order; the sigmoid being such a chain or a
  single hard-sigmoid node)                                       =>  `F.hardswish(x)`

The results equal the unfused ones up to float rounding (`relu6(x + 3) * (1/6)` vs torch's
`relu6(x + 3) / 6`), and the gradients too (the same piecewise-linear function, zero at the
kinks as in torch's relu6).

A chain is fused only where nothing else can see its inside: every intermediate has exactly one
consumer and is not a model output; every node runs its layer's `call` directly (no torch hook,
activity regularizer or remat), records no keyword arguments (no mask, no `training`), and keeps
one floating dtype from input to output (no autocast inside).

What a node computes is its *form*: for a torch function recorded by a Python operator
(`x + 3.0`) the function and its constant; for a layer, what the layer class declares with
`_fusion_form()` (a tuple, or None for "nothing fusable"; e.g. `ReLU` returns
`("relu", negative_slope, max_value, threshold)`).

Invalidation: the graph of a plan never changes after `Model(...)`. Fusion is derived when the
plan (re)compiles its direct steps, so everything that rebuilds those steps (the
`hook_registry.version` bumps: a hook registered on a layer, an activity regularizer set, a
layer first built, a dtype policy change) re-derives it, and steps run through
`nn.Module.__call__` (global hooks) are never fused. A layer's config can still be edited in
place afterwards (`relu.max_value = 5.0`): each fused step re-reads its layers' forms on every
call (a few attribute reads) and runs the original steps whenever one differs.
"""

import collections

import torch
import torch.nn.functional as F

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.operation import TorchFunction
from keraslike.graph.shape_inference import torch_dtype

_SIXTH = 1.0 / 6.0
_CONSTANT_FORMS = {torch.add: "add", torch.multiply: "mul", torch.true_divide: "div"}


def node_form(node):
    """What a node computes elementwise, as a hashable tuple, or None when no rule knows it.

    Forms: `("add", c)`, `("mul", c)`, `("div", c)` (a tensor and a Python number),
    `("mul_tensors",)` (two tensors), and whatever a layer's `_fusion_form()` returns
    (`("relu", negative_slope, max_value, threshold)`, `("hard_sigmoid",)`, `("multiply",)`).
    """
    operation = node.operation
    args, kwargs = node.call_args, node.call_kwargs
    if kwargs:
        return None
    if isinstance(operation, TorchFunction):
        kind = _CONSTANT_FORMS.get(operation.fn)
        if kind is None or len(args) != 2:
            return None
        a, b = args
        if isinstance(a, KerasTensor) and isinstance(b, KerasTensor):
            return ("mul_tensors",) if kind == "mul" else None
        if kind != "div" and _is_number(a) and isinstance(b, KerasTensor):
            a, b = b, a  # 3.0 + x, (1/6) * x
        if isinstance(a, KerasTensor) and _is_number(b):
            return (kind, float(b))
        return None
    declared = getattr(operation, "_fusion_form", None)
    if declared is None:
        return None
    form = declared()
    if form is None:
        return None
    if form[0] == "multiply":
        ok = len(args) == 1 and isinstance(args[0], list) and len(args[0]) == 2
    else:
        ok = len(args) == 1 and isinstance(args[0], KerasTensor)
    return form if ok else None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_relu6(form):
    return (
        form is not None
        and form[0] == "relu"
        and form[1] == 0
        and form[2] is not None
        and float(form[2]) == 6.0
        and form[3] == 0
    )


def _is_sixth(form):
    return form is not None and (form == ("mul", _SIXTH) or form == ("div", 6.0))


class _Graph:
    """The facts about a plan's steps that matching needs: each node's form, input slots,
    output slot and consumers."""

    def __init__(self, nodes, slot, kept):
        self.nodes = nodes
        self.forms = [node_form(n) for n in nodes]
        self.slot = slot
        self.kept = kept
        self.readers = collections.defaultdict(list)  # slot -> step indices (one per read)
        for index, node in enumerate(nodes):
            for t in node.input_tensors:
                self.readers[slot[id(t)]].append(index)

    def input_slots(self, index):
        return [self.slot[id(t)] for t in self.nodes[index].input_tensors]

    def output_slot(self, index):
        outputs = self.nodes[index].output_tensors
        return self.slot[id(outputs[0])] if len(outputs) == 1 else None

    def sole_reader(self, index):
        """The one step reading node `index`'s output, when it is read once and not returned."""
        out = self.output_slot(index)
        if out is None or out in self.kept:
            return None
        readers = self.readers.get(out, [])
        return readers[0] if len(readers) == 1 else None

    def fusable(self, index):
        """Whether node `index` may disappear into a fused step (direct call, one float dtype)."""
        node = self.nodes[index]
        operation = node.operation
        if not isinstance(operation, TorchFunction) and operation.runtime_callable != operation.call:
            return False
        tensors = node.input_tensors + node.output_tensors
        if any(t._keras_mask is not None for t in tensors):
            return False
        dtypes = {t.dtype for t in tensors}
        return len(dtypes) == 1 and torch_dtype(dtypes.pop()).is_floating_point


def _hard_sigmoid_chain(graph, index):
    """The node indices of a hard-sigmoid chain starting at `index`, or None."""
    form = graph.forms[index]
    if form == ("hard_sigmoid",):
        return [index]
    if form != ("add", 3.0):
        return None
    clip = graph.sole_reader(index)
    if clip is None or not _is_relu6(graph.forms[clip]):
        return None
    scale = graph.sole_reader(clip)
    if scale is None or not _is_sixth(graph.forms[scale]):
        return None
    return [index, clip, scale]


def _hard_swish_product(graph, chain):
    """The index of the node computing `x * hard_sigmoid(x)` over `chain`, or None."""
    last = graph.sole_reader(chain[-1])
    if last is None or graph.forms[last] not in (("mul_tensors",), ("multiply",)):
        return None
    x_slot = graph.input_slots(chain[0])[0]
    operands = sorted(graph.input_slots(last))
    if operands != sorted([x_slot, graph.output_slot(chain[-1])]):
        return None
    return last


def _fused_step(function, src, dst, frees, group, steps, forms, nodes):
    """One step computing `dst = function(src)` in place of the steps of `group`, guarded by
    the forms of the group's layers (re-read per call) and falling back to the original steps."""
    originals = [steps[i] for i in group]
    guards = [
        (nodes[i].operation, forms[i])
        for i in group
        if getattr(nodes[i].operation, "_fusion_form", None) is not None
    ]

    def step(values, training):
        for operation, form in guards:
            if operation._fusion_form() != form:
                for original in originals:
                    original(values, training)
                return
        x = values[src]
        for s in frees:
            values[s] = None
        values[dst] = function(x)

    return step


def fuse_steps(nodes, steps, frees, slot, output_slots):
    """Rewrites compiled direct steps, fusing the chains this module knows.

    A fused step takes the place of its chain's first node: its only input `x` is alive there,
    and its result is read only after the chain's last node. A hard swish is left alone when a
    step outside it reads `x` between its first node and its product (the fused step would free
    `x` too early).

    Args:
        nodes: The plan's nodes, one per step, in execution order.
        steps: The compiled direct steps (same order).
        frees: Per step, the slots freed after it.
        slot: Map from `id(KerasTensor)` to value slot.
        output_slots: Slots the plan returns (never fused away).

    Returns:
        `(steps, nodes)`: the new step list and, per new step, the node named in error
        messages (a fused step names the last node of its chain).
    """
    graph = _Graph(nodes, slot, set(output_slots))
    replaced = {}  # index of a group's first node -> (group, fused function)
    taken = set()
    for index in range(len(nodes)):
        if index in taken:
            continue
        chain = _hard_sigmoid_chain(graph, index)
        if chain is None:
            continue
        group, function = chain, F.hardsigmoid
        product = _hard_swish_product(graph, chain)
        if product is not None:
            group, function = chain + [product], F.hardswish
        x_readers = graph.readers[graph.input_slots(group[0])[0]]
        last_in_group = max(i for i in group if i in x_readers)
        between = [i for i in x_readers if group[0] < i < last_in_group and i not in group]
        if between or any(i in taken or not graph.fusable(i) for i in group):
            continue
        taken.update(group)
        replaced[group[0]] = (group, function)
    if not replaced:
        return steps, nodes
    new_steps, new_nodes = [], []
    for index, (step, node) in enumerate(zip(steps, nodes)):
        if index in replaced:
            group, function = replaced[index]
            internal = {graph.output_slot(i) for i in group[:-1]}
            group_frees = sorted({s for i in group for s in frees[i]} - internal)
            src = graph.input_slots(group[0])[0]
            dst = graph.output_slot(group[-1])
            step = _fused_step(function, src, dst, group_frees, group, steps, graph.forms, nodes)
            node = nodes[group[-1]]
        elif index in taken:
            continue
        new_steps.append(step)
        new_nodes.append(node)
    return new_steps, new_nodes
