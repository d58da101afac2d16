"""Layout propagation: chains of image layers run on channels-first views, permuting only at
the chain's ends.

Keras tensors are channels-last (NHWC). A channels-last convolution permutes its input to a
channels-first view (NCHW logical, channels-last memory: what torch's kernels take without a
copy), convolves, and permutes back; BatchNormalization does the same. Nothing is copied, but
each permute is a dispatcher op, and at batch 1 on a GPU ops are what a forward costs. When the
plan compiles its direct steps, this pass keeps values channels-first between layers that can
take them, and permutes only where a layer needs the channels-last form (a Dense, a Reshape, a
layer with a hook, a model output...).

A layer takes part by declaring, on its class:

- `_channels_first_call(rank)`: a callable computing the layer's `call` (same arguments) on
  channels-first views of rank-`rank` inputs, returning channels-first outputs (an output of
  rank < 3 is the same in both layouts), or `None` when its configuration cannot (a
  channels-first convolution, a BatchNormalization over another axis, a softmax activation).
  It is asked when the steps are compiled; the callable itself handles a configuration that
  changed since then (LoRA enabled, a custom `convolution_op`, an activation reassigned) by
  running `call` on channels-last views, so numbers never depend on the cached decision.
  A layer making an image tensor from a flat one (`Reshape((1, 1, C))` of a pooled `(N, C)`)
  declares it for `rank` 2; it runs channels-first only when its output's first reader wants
  channels-first.
- `_layout_free = True` for element-by-element layers (activations, merges): they take the
  layout their inputs come in (all inputs of one rank), and never cause a permute themselves.

A `ZeroPadding` layer may also declare `_foldable_padding(rank)` (its padding, one int per
spatial dim and the same on both sides, or None), and a convolution
`_channels_first_padded_call(rank, padding)` (its channels-first call on the unpadded input,
passing the padding to torch's kernel, or None): where a channels-first "valid" convolution is
the only reader of a channels-first ZeroPadding's output, the padding step passes its input
through and the convolution pads inside the kernel, as a hand-written module writes
`nn.Conv2d(..., padding=p)` (one copy of the activation fewer).

Single-pixel tensors (every spatial dim 1: squeeze-and-excite blocks) run channels-first too,
with whatever strides torch's ops give them, as in a hand-written module (`x.mean((2, 3),
keepdim=True)` then 1x1 convolutions). Torch reads `(N, C, 1, 1)` strided `(C, 1, 1, 1)` as
contiguous and `(C, 1, C, C)` as channels_last, so a 1x1 convolution may take another CPU kernel
than on the plain plan's permuted view (the same numbers up to float rounding; measured: the
same time at batch 1, within +-20% per 1x1-pixel convolution at batch 32, a negligible part of
the forward), for 4 permutes fewer per squeeze-and-excite block.

Python operators recorded on KerasTensors (`x + 3.0`, `a * b`) are element by element too.

Decided per node, in plan order, tracking the layout each value slot holds: a node runs
channels-first when it declares it can (for its input rank >= 3), it is called directly (no
hook, activity regularizer or remat), it records no keyword arguments but `training`, and no
input carries a mask. Its inputs are permuted (in their slots, so later readers see the new
layout) when they do not hold the layout it needs. Values returned by the model are permuted
back after the last step, except a returned value that later nodes also read: its node runs
channels-last and its readers permute their own views, so the tensor returned is the one the
later outputs were computed from (`torch.autograd.grad(preds, returned_conv_output)`).

Invalidation: the decision is rebuilt whenever the plan recompiles its direct steps
(`hook_registry.version`: hooks, activity regularizers, builds, dtype policies); the graph
itself never changes; what layers may change later is checked by their channels-first calls.
"""

import torch

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.operation import TorchFunction

_CF, _CL = "cf", "cl"
_ELEMENTWISE_TORCH = {
    torch.add, torch.subtract, torch.multiply, torch.true_divide, torch.maximum, torch.minimum,
}  # fmt: skip


def to_channels_first(rank):
    """The permutation of a channels-last tensor of `rank` to its channels-first view."""
    return (0, rank - 1) + tuple(range(1, rank - 1))


def to_channels_last(rank):
    """The permutation of a channels-first view of `rank` back to channels-last."""
    return (0,) + tuple(range(2, rank)) + (1,)


def _tensor_inputs(node):
    """The node's tensor inputs when its call is `f(x)` or `f([x1, x2, ...])`, else None."""
    args = node.call_args
    if len(args) == 1 and isinstance(args[0], KerasTensor):
        return [args[0]], False
    if len(args) == 1 and isinstance(args[0], list) and all(isinstance(a, KerasTensor) for a in args[0]):
        return list(args[0]), True
    return None


def _torch_elementwise(node):
    """Whether a recorded torch function is element by element over same-rank tensors/numbers."""
    if node.operation.fn not in _ELEMENTWISE_TORCH or node.call_kwargs:
        return False
    tensors = [a for a in node.call_args if isinstance(a, KerasTensor)]
    others = [a for a in node.call_args if not isinstance(a, KerasTensor)]
    return bool(tensors) and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in others)


class _Decision:
    """How one node runs: `mode` is "cl" (as compiled), "cf" (channels-first call) or "free"
    (its own call, on whatever layout its inputs hold)."""

    def __init__(self, mode, conversions, rank=None, list_input=False):
        self.mode = mode
        self.conversions = conversions  # [(slot, permutation, in the slot itself)] before the node
        self.rank = rank
        self.list_input = list_input


def _capability(node):
    """("cf" | "free" | None, input rank, list_input) for a node."""
    operation = node.operation
    if isinstance(operation, TorchFunction):
        if not _torch_elementwise(node):
            return None, None, False
        ranks = {len(t.shape) for t in node.input_tensors}
        return ("free", ranks.pop(), False) if len(ranks) == 1 else (None, None, False)
    declared = getattr(operation, "_channels_first_call", None)
    if declared is None or operation.runtime_callable != operation.call:
        return None, None, False
    if any(k != "training" for k in node.call_kwargs):
        return None, None, False
    found = _tensor_inputs(node)
    if found is None:
        return None, None, False
    tensors, list_input = found
    ranks = {len(t.shape) for t in tensors}
    if len(ranks) != 1:
        return None, None, False
    rank = ranks.pop()
    out_rank = max(len(t.shape) for t in node.output_tensors)
    if max(rank, out_rank) < 3 or declared(rank) is None:
        return None, None, False
    if getattr(operation, "_layout_free", False):
        return "free", rank, list_input
    return "cf", rank, list_input


def _decide(nodes, slot, output_slots):
    """One `_Decision` per node, and the final layout of every slot."""
    returned = set(output_slots)
    capabilities = []
    readers = {}  # slot -> indices of the nodes reading it, in plan order
    for index, node in enumerate(nodes):
        kind, rank, list_input = _capability(node)
        if any(t._keras_mask is not None for t in node.input_tensors):
            kind = None
        capabilities.append((kind, rank, list_input))
        for t in node.input_tensors:
            readers.setdefault(slot[id(t)], []).append(index)

    def first_need(s, after):
        # The layout wanted by the first node after `after` reading slot `s` that is not element
        # by element (followed through element-by-element readers); channels-last when none.
        while True:
            later = [i for i in readers.get(s, ()) if i > after]
            if not later:
                return _CL
            i = later[0]
            kind = capabilities[i][0]
            if kind != "free" or len(nodes[i].output_tensors) != 1:
                return _CF if kind == "cf" else _CL
            s, after = slot[id(nodes[i].output_tensors[0])], i

    layout = {}  # slot -> "cf" (absent: "cl")
    decisions = []
    for index, (node, (kind, rank, list_input)) in enumerate(zip(nodes, capabilities)):
        inputs = [slot[id(t)] for t in node.input_tensors]
        if kind in ("cf", "free") and any(
            len(t.shape) >= 3 and slot[id(t)] in returned and slot[id(t)] in readers
            for t in node.output_tensors
        ):
            # A returned image that later layers also read must be the very tensor they read
            # (`autograd.grad(loss, returned)`, Grad-CAM): made channels-last, as compiled.
            kind = "plain"
        if kind == "cf" and rank < 3 and first_need(slot[id(node.output_tensors[0])], index) != _CF:
            kind = "plain"  # makes an image from a flat tensor: channels-first only for a reader that wants it
        if kind == "free":
            held = {layout.get(s, _CL) for s in inputs}
            mixed = len(held) > 1
            if held == {_CL} or (mixed and first_need(slot[id(node.output_tensors[0])], index) == _CL):
                kind = "plain"  # runs on channels-last inputs, as compiled
        want = _CF if kind in ("cf", "free") else _CL
        conversions = []
        for s, t in zip(inputs, node.input_tensors):
            r = len(t.shape)
            if r >= 3 and layout.get(s, _CL) != want and all(c[0] != s for c in conversions):
                # In the slot itself when the next reader wants the new layout too (or there is
                # none); else only for this node.
                in_place = first_need(s, index) == want or not any(i > index for i in readers[s])
                if s in returned and want == _CF:
                    in_place = False  # the returned tensor stays the one the readers read
                conversions.append((s, to_channels_first(r) if want == _CF else to_channels_last(r), in_place))
                if in_place:
                    layout[s] = want
        for t in node.output_tensors:
            layout[slot[id(t)]] = _CF if want == _CF and len(t.shape) >= 3 else _CL
        decisions.append(_Decision(kind if kind in ("cf", "free") else "cl", conversions, rank, list_input))
    return decisions, layout


def _converting(step, conversions):
    if all(in_place for _, _, in_place in conversions):

        def converted(values, training):
            for s, perm, _ in conversions:
                values[s] = values[s].permute(perm)
            step(values, training)

        converted.spec = ("convert", conversions, step)  # for graph/plan_codegen.py
        return converted

    def converted_for_this_step(values, training):
        kept = []
        for s, perm, in_place in conversions:
            if not in_place:
                kept.append((s, values[s]))  # later readers still want this layout
            values[s] = values[s].permute(perm)
        step(values, training)
        for s, value in kept:
            values[s] = value

    converted_for_this_step.spec = ("convert", conversions, step)
    return converted_for_this_step


def _unpadded(x):
    # A folded ZeroPadding's step: its only reader, a convolution, pads inside the kernel.
    return x


def _padding_folds(nodes, decisions, slot, output_slots):
    """{pad index: (conv index, per-dim padding)} for each channels-first `ZeroPadding` whose
    output only a channels-first "valid" convolution reads (and the model does not return)."""
    readers = {}
    for index, node in enumerate(nodes):
        for t in node.input_tensors:
            readers.setdefault(slot[id(t)], []).append(index)
    kept = set(output_slots)
    folds = {}
    for index, (node, decision) in enumerate(zip(nodes, decisions)):
        declared = getattr(node.operation, "_foldable_padding", None)
        if declared is None or decision.mode != _CF or len(node.output_tensors) != 1:
            continue
        padding = declared(decision.rank)
        out = slot[id(node.output_tensors[0])]
        reads = readers.get(out, [])
        if padding is None or out in kept or len(reads) != 1:
            continue
        conv = reads[0]
        fold = getattr(nodes[conv].operation, "_channels_first_padded_call", None)
        if decisions[conv].mode != _CF or decisions[conv].conversions or fold is None:
            continue
        if fold(decisions[conv].rank, padding) is not None:
            folds[index] = (conv, padding)
    return folds


def propagate(nodes, steps, slot, output_slots, compile_step):
    """Rewrites compiled direct steps so image layers pass channels-first views along.

    Args:
        nodes: The plan's nodes, one per step, in execution order.
        steps: Their compiled direct steps.
        slot: Map from `id(KerasTensor)` to value slot.
        output_slots: Slots the plan returns.
        compile_step: `compile_step(index, fn)`: node `index`'s step calling `fn` instead of
            its operation's call (the plan's own step compiler: training, autocast, frees).

    Returns:
        `(steps, finish)`: the new steps (one per node) and `None` or a last step that makes
        the returned values channels-last again (`finish(values, training)`).
    """
    decisions, layout = _decide(nodes, slot, output_slots)
    if all(d.mode == "cl" and not d.conversions for d in decisions):
        return steps, None
    folds = _padding_folds(nodes, decisions, slot, output_slots)
    padded = {conv: padding for conv, padding in folds.values()}
    new_steps = []
    for index, (node, step, decision) in enumerate(zip(nodes, steps, decisions)):
        operation = node.operation
        if index in folds:
            step = compile_step(index, _unpadded)
        elif index in padded:
            step = compile_step(index, operation._channels_first_padded_call(decision.rank, padded[index]))
        elif decision.mode in ("cf", "free") and not isinstance(operation, TorchFunction):
            fn = operation._channels_first_call(decision.rank)
            if fn != operation.call:
                step = compile_step(index, fn)
        if decision.conversions:
            step = _converting(step, decision.conversions)
        new_steps.append(step)
    ranks = {slot[id(t)]: len(t.shape) for n in nodes for t in n.input_tensors + n.output_tensors}
    finals = [(s, to_channels_last(ranks[s])) for s in dict.fromkeys(output_slots) if layout.get(s) == _CF]
    if not finals:
        return new_steps, None

    def finish(values, training):
        for s, perm in finals:
            values[s] = values[s].permute(perm)

    finish.spec = ("finish", finals)
    return new_steps, finish
