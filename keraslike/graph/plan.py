"""The execution plan: a graph compiled once into a flat list of steps over numbered value slots.

`run` is a tight loop: each step reads its argument slots, calls its layer or op, writes its
result slots and frees the slots whose last use it was. No graph walking, dict building or
recursion happens per call, and the loop traces cleanly under `torch.compile`.
"""

import inspect
import sys

import torch

from keraslike.graph import hook_registry, nest
from keraslike.graph.keras_tensor import KerasTensor

_TRAINING_SUPPORT = {}


def accepts_training(operation):
    """Whether the operation's call takes a `training` argument (cached per class)."""
    cls = type(operation)
    if cls not in _TRAINING_SUPPORT:
        call = getattr(operation, "call", None)
        try:
            params = inspect.signature(call).parameters if call is not None else {}
        except (TypeError, ValueError):
            params = {}
        _TRAINING_SUPPORT[cls] = "training" in params
    return _TRAINING_SUPPORT[cls]


def _single_arg_step(fn, src, dst, kwargs, free_src, with_training):
    if with_training:

        def step(values, training):
            x = values[src]
            if free_src:
                values[src] = None
            if training is None:
                values[dst] = fn(x, **kwargs)
            else:
                values[dst] = fn(x, training=training, **kwargs)

    elif kwargs:

        def step(values, training):
            x = values[src]
            if free_src:
                values[src] = None
            values[dst] = fn(x, **kwargs)

    else:

        def step(values, training):
            x = values[src]
            if free_src:
                values[src] = None
            values[dst] = fn(x)

    return step


def _list_arg_step(fn, srcs, dst, kwargs, frees, with_training):
    # A merge layer's call: `fn([x1, x2, ...])`.
    def step(values, training):
        xs = [values[s] for s in srcs]
        for s in frees:
            values[s] = None
        if with_training and training is not None:
            values[dst] = fn(xs, training=training, **kwargs)
        else:
            values[dst] = fn(xs, **kwargs)

    return step


def _general_step(fn, template, leaf_slots, constants, out_slots, single_output, frees, with_training):
    def step(values, training):
        leaves = [values[s] if s >= 0 else constants[i] for i, s in enumerate(leaf_slots)]
        args, kwargs = nest.pack_like(template, leaves)
        for s in frees:
            values[s] = None
        if with_training and training is not None:
            kwargs["training"] = training
        result = fn(*args, **kwargs)
        if single_output:
            values[out_slots[0]] = result
        else:
            for s, v in zip(out_slots, nest.flatten(result)):
                values[s] = v

    return step


class ExecutionPlan:
    """A graph compiled into steps over value slots.

    Args:
        inputs: Flat list of input KerasTensors (their values fill the first slots).
        outputs: Flat list of output KerasTensors.
        nodes: The nodes to run, in topological order (from `topology.map_graph`).
    """

    def __init__(self, inputs, outputs, nodes):
        slot = {id(t): i for i, t in enumerate(inputs)}
        input_ids = set(slot)
        runnable = [
            n for n in nodes if not n.is_input and not all(id(t) in input_ids for t in n.output_tensors)
        ]
        for node in runnable:
            for t in node.output_tensors:
                slot.setdefault(id(t), len(slot))
        last_use = {}
        for index, node in enumerate(runnable):
            for t in node.input_tensors:
                last_use[slot[id(t)]] = index
        kept = {slot[id(t)] for t in outputs}

        self.num_inputs = len(inputs)
        self.num_slots = len(slot)
        self.output_slots = [slot[id(t)] for t in outputs]
        self.step_nodes = runnable
        self._slot = slot
        self._frees = [
            sorted({slot[id(t)] for t in node.input_tensors if last_use[slot[id(t)]] == index} - kept)
            for index, node in enumerate(runnable)
        ]
        self._hook_version = -1
        self._direct_steps = None
        self._module_call_steps = None

    def _compile(self, direct):
        steps = []
        for node, frees in zip(self.step_nodes, self._frees):
            operation = node.operation
            if direct or not hasattr(operation, "_needs_module_call"):
                fn = operation.runtime_callable
            else:
                fn = torch.nn.Module.__call__.__get__(operation)
            steps.append(self._compile_step(node, self._slot, frees, fn))
        return steps

    def current_steps(self):
        """The steps to run now: direct layer calls unless a torch hook must see the call."""
        if hook_registry.global_hooks_active():
            if self._module_call_steps is None:
                self._module_call_steps = self._compile(direct=False)
            return self._module_call_steps
        if self._hook_version != hook_registry.version:
            self._direct_steps = self._compile(direct=True)
            self._hook_version = hook_registry.version
        return self._direct_steps

    def _compile_step(self, node, slot, frees, fn):
        operation = node.operation
        with_training = "training" not in node.call_kwargs and accepts_training(operation)
        out_slots = [slot[id(t)] for t in node.output_tensors]
        single_output = isinstance(node.outputs, KerasTensor)
        args, kwargs = node.call_args, node.call_kwargs
        if (
            len(args) == 1
            and isinstance(args[0], KerasTensor)
            and single_output
            and not any(isinstance(v, KerasTensor) for v in nest.flatten(kwargs))
        ):
            src = slot[id(args[0])]
            return _single_arg_step(fn, src, out_slots[0], dict(kwargs), src in frees, with_training)
        if (
            len(args) == 1
            and isinstance(args[0], list)
            and all(isinstance(a, KerasTensor) for a in args[0])
            and single_output
            and not any(isinstance(v, KerasTensor) for v in nest.flatten(kwargs))
        ):
            srcs = [slot[id(a)] for a in args[0]]
            return _list_arg_step(fn, srcs, out_slots[0], dict(kwargs), frees, with_training)
        leaves = nest.flatten((args, kwargs))
        leaf_slots = [slot[id(x)] if isinstance(x, KerasTensor) else -1 for x in leaves]
        constants = [None if isinstance(x, KerasTensor) else x for x in leaves]
        return _general_step(
            fn, (args, kwargs), leaf_slots, constants, out_slots, single_output, frees, with_training
        )

    def run(self, inputs, training=None):
        """Runs the plan on a flat list of input tensors and returns the flat list of outputs."""
        values = list(inputs) + [None] * (self.num_slots - self.num_inputs)
        steps = self.current_steps()
        index = 0
        try:
            for index, step in enumerate(steps):
                step(values, training)
        except Exception as error:
            _annotate(error, self.step_nodes[index])
            raise
        return [values[s] for s in self.output_slots]


def _annotate(error, node):
    operation = node.operation
    note = (
        f'Exception encountered when calling layer "{operation.name}" '
        f"({type(operation).__name__}) while running the model graph."
    )
    if sys.version_info >= (3, 11):
        if note not in getattr(error, "__notes__", ()):
            error.add_note(note)
