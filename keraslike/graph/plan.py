"""The execution plan: a graph compiled once into a flat list of steps over numbered value slots.

`run` is a tight loop: each step reads its argument slots, calls its layer or op, writes its
result slots and frees the slots whose last use it was. No graph walking, dict building or
recursion happens per call, and the loop traces cleanly under `torch.compile`.
"""

import copy
import inspect
import sys

import torch

from keraslike.graph import fusion, layout, nest, plan_codegen
from keraslike.graph.call_context import record_losses
from keraslike.graph.call_context import state as _context
from keraslike.graph.hook_registry import current_version, global_hooks_active
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.shape_inference import torch_dtype

# A module-level name for what `runs_directly_in_context` reads: under `torch.compile` a value
# reached through two paths (here and the model's module) costs a Python guard per call.
_jit_tracing_state = torch._C._get_tracing_state

_TRAINING_SUPPORT = {}


def training_parameter(operation):
    """(takes `training`, its non-`None` default or `None`) of the operation's call, per class."""
    cls = type(operation)
    found = _TRAINING_SUPPORT.get(cls)
    if found is None:
        call = getattr(operation, "call", None)
        try:
            params = inspect.signature(call).parameters if call is not None else {}
        except (TypeError, ValueError):
            params = {}
        param = params.get("training")
        default = None
        if param is not None and param.default is not inspect.Parameter.empty:
            default = param.default
        found = _TRAINING_SUPPORT[cls] = (param is not None, default)
    return found


def accepts_training(operation):
    """Whether the operation's call takes a `training` argument (cached per class)."""
    return training_parameter(operation)[0]


def _with_context(fn):
    """`fn` called with `training` set as the call context for its sublayers too.

    Used for nodes recorded with an explicit `training=` (`Dropout(0.5)(x, training=True)`):
    when the model call gives none, that value is the context of the layer's own sublayers.
    """

    def call(*args, training=None, **kwargs):
        outer = _context.training
        _context.training = training
        try:
            return fn(*args, training=training, **kwargs)
        finally:
            _context.training = outer

    return call


def with_mask_of(new, old):
    """`new` (a cast or reshape of the tensor `old`) carrying `old`'s Keras mask, if it has one."""
    mask = getattr(old, "_keras_mask", None)
    if mask is not None:
        new._keras_mask = mask
    return new


def cast_floating(structure, dtype):
    """`structure` with each floating tensor not of `dtype` cast to `dtype` (Keras's input
    autocast); a tensor's `_keras_mask` is kept on its cast."""

    def cast(x):
        if isinstance(x, torch.Tensor) and x.dtype is not dtype and x.is_floating_point():
            return with_mask_of(x.to(dtype), x)
        return x

    if type(structure) is torch.Tensor:
        return cast(structure)
    return nest.map_structure(cast, structure)


def _needs_autocast(node, dtype):
    """Whether a node's symbolic inputs include a floating tensor whose dtype is not `dtype`, or
    one made by a layer with `autocast=False` under a mixed policy (symbolically of the compute
    dtype, as in Keras, but float32 when it runs: Keras casts it again for the next layer)."""
    for x in nest.flatten((node.call_args, node.call_kwargs)):
        if isinstance(x, KerasTensor):
            x_dtype = torch_dtype(x.dtype)
            if not x_dtype.is_floating_point:
                continue
            history = x._keras_history
            if x_dtype is not dtype or (
                history is not None and getattr(history[0], "_uncast_mixed", False)
            ):
                return True
    return False


def _autocasting(fn, dtype):
    """`fn` with its floating tensor arguments cast to `dtype` first (the layer's compute dtype:
    what the layer's `__call__` does, which plan steps do not go through)."""

    def call(*args, **kwargs):
        args, kwargs = cast_floating((args, kwargs), dtype)
        return fn(*args, **kwargs)

    return call


# Each step is `step(values, training)`. `training` is the value the model was called with (or
# the enclosing call context's); when it is not None it wins over a `training=` recorded in the
# node, as in Keras (`Dropout(0.5)(x, training=True)` does not drop during `predict`).


def _single_arg_step(fn, src, dst, kwargs, free_src, with_training, node_training):
    if with_training:

        def step(values, training):
            x = values[src]
            if free_src:
                values[src] = None
            if training is None:
                training = node_training
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

    # What `plan_codegen` writes out in its place (the same computation).
    step.spec = ("single", fn, src, dst, kwargs, free_src, with_training, node_training)
    return step


def _list_arg_step(fn, srcs, dst, kwargs, frees, with_training, node_training):
    # A merge layer's call: `fn([x1, x2, ...])`.
    def step(values, training):
        xs = [values[s] for s in srcs]
        for s in frees:
            values[s] = None
        if training is None:
            training = node_training
        if with_training and training is not None:
            values[dst] = fn(xs, training=training, **kwargs)
        else:
            values[dst] = fn(xs, **kwargs)

    step.spec = ("list", fn, srcs, dst, kwargs, frees, with_training, node_training)
    return step


def _general_step(
    fn, template, leaf_slots, constants, out_slots, single_output, frees, with_training, node_training
):
    def step(values, training):
        leaves = [values[s] if s >= 0 else constants[i] for i, s in enumerate(leaf_slots)]
        args, kwargs = nest.pack_like(template, leaves)
        for s in frees:
            values[s] = None
        if training is None:
            training = node_training
        if with_training and training is not None:
            kwargs["training"] = training
        result = fn(*args, **kwargs)
        if single_output:
            values[out_slots[0]] = result
        else:
            for s, v in zip(out_slots, nest.flatten(result)):
                values[s] = v

    args, kwargs = template
    if single_output and not any(isinstance(x, _CONTAINERS) for x in list(args) + list(kwargs.values())):
        # Flat arguments (`mha(query, value, attention_mask=m)`): `plan_codegen` writes them out.
        def leaf(x):
            return ("slot", slot_of[id(x)]) if isinstance(x, KerasTensor) else ("constant", x)

        slot_of = {id(x): s for x, s in zip(nest.flatten(template), leaf_slots) if s >= 0}
        step.spec = (
            "general", fn, [leaf(a) for a in args], [(k, leaf(v)) for k, v in kwargs.items()],
            out_slots[0], frees, with_training, node_training,
        )
    return step


_CONTAINERS = (list, tuple, dict)


class ExecutionPlan:
    """A graph compiled into steps over value slots.

    Args:
        inputs: Flat list of input KerasTensors (their values fill the first slots).
        outputs: Flat list of output KerasTensors.
        nodes: The nodes to run, in topological order (from `topology.map_graph`), the nodes
            computing `output_masks` included.
        output_masks: Optional list, per output, of the KerasTensor of its Keras mask (an
            Embedding's `mask_zero` mask passed along) or `None`. Each run attaches the
            computed masks to its outputs as `_keras_mask`, which the compiled losses and
            metrics read, as Keras does.
    """

    def __init__(self, inputs, outputs, nodes, output_masks=None):
        self._graph = (list(inputs), list(outputs), list(nodes), output_masks)  # for __deepcopy__
        # (output index, index in the returned list of its mask) for each masked output.
        self._mask_pairs = []
        if output_masks:
            extra = []
            for index, mask in enumerate(output_masks):
                if isinstance(mask, KerasTensor):
                    self._mask_pairs.append((index, len(outputs) + len(extra)))
                    extra.append(mask)
            outputs = list(outputs) + extra
        self._num_outputs = len(outputs) - len(self._mask_pairs)
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
        for node in runnable:  # cached now: the first run may be traced by torch.compile
            training_parameter(node.operation)
        self._frees = [
            sorted({slot[id(t)] for t in node.input_tensors if last_use[slot[id(t)]] == index} - kept)
            for index, node in enumerate(runnable)
        ]
        # The steps cache each operation's call path (`runtime_callable`), which depends on state
        # that can change after `Model(...)`: torch hooks, a layer's activity regularizer, a layer
        # first built. Each such change bumps `hook_registry.version`, which rebuilds the steps on
        # the next run. Nothing else is cached: `add_loss` works on any path (it records into the
        # call context) and `trainable` is read by the layers themselves.
        self._hook_version = -1
        self._direct_steps = None
        self._direct_nodes = runnable  # per direct step, its node (a fused step: its last node)
        self._module_call_steps = None
        # Per list of steps, the generated function running them (`plan_codegen`), regenerated
        # with the list: `(run, refs, step_of, nodes)`.
        self._direct_runner = None
        self._module_call_runner = None
        # The list that collected the losses added (`add_loss`, activity regularizers) during the
        # most recent run: the whole outermost call's list when this plan ran nested inside one,
        # `NO_LOSSES` after a loss-free outermost run; `None` while no loss was ever added.
        self.loss_collection = None
        # Built now, not by the first run: a first run traced by torch.compile that built them
        # would change what its own guards read and compile a second time.
        self.current_steps()

    def __deepcopy__(self, memo):
        # Slots are keyed by tensor ids and steps close over the layers: a copied plan is
        # rebuilt over the copied graph (the copied model's own layers), never copied as is.
        return ExecutionPlan(*copy.deepcopy(self._graph, memo))

    def __reduce_ex__(self, protocol):
        # What `pickle.dumps(model)` / `torch.save(model)` of a graph model reach first: say
        # why, instead of pickle's "Can't pickle local object" about a step.
        raise TypeError(
            "keraslike never pickles a functional or Sequential model (`pickle`, `torch.save("
            "model)`, `joblib`). Save it with `model.save('model.keras')` or "
            "`model.save('model.safetensors')` and `keras.models.load_model`, or save "
            "`model.state_dict()` with `torch.save`."
        )

    def _compile(self, direct):
        """`(steps, nodes)`: the steps, and per step the node its errors name."""
        steps = []
        for node, frees in zip(self.step_nodes, self._frees):
            operation = node.operation
            if direct:
                fn = operation.runtime_callable
            else:
                fn = operation.module_callable
            steps.append(self._compile_step(node, self._slot, frees, fn))
            nested = getattr(operation, "_plan", None)
            if isinstance(nested, ExecutionPlan):
                # A nested model's plan was built before this graph's layers were (each build
                # bumps the version): bring it up to date now rather than inside a trace.
                nested.current_runner()
        nodes = self.step_nodes
        if direct:  # graph/layout.py, graph/fusion.py: each says what invalidates it
            steps, finish = layout.propagate(
                self.step_nodes, steps, self._slot, self.output_slots, self._recompile_step
            )
            steps, nodes = fusion.fuse_steps(self.step_nodes, steps, self._frees, self._slot, self.output_slots)
            if finish is not None:
                steps.append(finish)
                nodes = nodes + self.step_nodes[-1:]
        return steps, nodes

    def _recompile_step(self, index, fn):
        return self._compile_step(self.step_nodes[index], self._slot, self._frees[index], fn)

    def runs_directly_in_context(self, module_training):
        """Whether a model in mode `module_training` may run this plan without its module call
        chain: the enclosing call context asks no other mode, no torch-wide module hook is set
        and `torch.jit.trace` is not recording. (Read here, not by the model, so that under
        `torch.compile` each of these globals is reached, and guarded, through one module.)"""
        training = _context.training
        return (
            (training is None or bool(training) == module_training)
            and not global_hooks_active()
            and not _jit_tracing_state()
        )

    def current_steps(self):
        """The steps to run now: direct layer calls unless a torch hook must see the call."""
        self.current_runner()
        return self._module_call_steps if global_hooks_active() else self._direct_steps

    def current_runner(self):
        """`(run, refs, step_of, nodes)` of the steps to run now (`plan_codegen.generate`)."""
        if global_hooks_active():
            if self._module_call_runner is None:
                steps, nodes = self._compile(direct=False)
                if torch.compiler.is_compiling():
                    return _loop_runner(self, steps, nodes)
                self._module_call_steps = steps
                self._module_call_runner = _runner(self, steps, nodes)
            return self._module_call_runner
        if self._hook_version != current_version():
            steps, nodes = self._compile(direct=True)
            if torch.compiler.is_compiling():
                # Stale inside a trace (a layer built or a hook registered since the last
                # eager call): a trace cannot run `exec`, and caching here would change what
                # its own guards read (a second compile). Run the fresh steps in a loop and
                # keep nothing; the next eager call caches them.
                return _loop_runner(self, steps, nodes)
            self._direct_steps, self._direct_nodes = steps, nodes
            self._direct_runner = _runner(self, steps, nodes)
            self._hook_version = current_version()
        return self._direct_runner

    def _compile_step(self, node, slot, frees, fn):
        operation = node.operation
        with_training, default = training_parameter(operation)
        out_slots = [slot[id(t)] for t in node.output_tensors]
        single_output = isinstance(node.outputs, KerasTensor)
        args, kwargs = node.call_args, dict(node.call_kwargs)
        node_training = kwargs.pop("training", None) if with_training else None
        if node_training is None:
            node_training = default  # `call(x, training=False)`: the sublayers' context too
        if node_training is not None:
            fn = _with_context(fn)
        # A layer's input autocast (`Layer._autocast_to`, which bumps the hook version when it
        # changes), decided once per node from its inputs' symbolic dtypes.
        autocast_to = getattr(operation, "_autocast_to", None)
        if autocast_to is not None and _needs_autocast(node, autocast_to):
            fn = _autocasting(fn, autocast_to)
        if (
            len(args) == 1
            and isinstance(args[0], KerasTensor)
            and single_output
            and not any(isinstance(v, KerasTensor) for v in nest.flatten(kwargs))
        ):
            src = slot[id(args[0])]
            return _single_arg_step(
                fn, src, out_slots[0], kwargs, src in frees, with_training, node_training
            )
        if (
            len(args) == 1
            and isinstance(args[0], list)
            and all(isinstance(a, KerasTensor) for a in args[0])
            and single_output
            and not any(isinstance(v, KerasTensor) for v in nest.flatten(kwargs))
        ):
            srcs = [slot[id(a)] for a in args[0]]
            return _list_arg_step(fn, srcs, out_slots[0], kwargs, frees, with_training, node_training)
        leaves = nest.flatten((args, kwargs))
        leaf_slots = [slot[id(x)] if isinstance(x, KerasTensor) else -1 for x in leaves]
        constants = [None if isinstance(x, KerasTensor) else x for x in leaves]
        return _general_step(
            fn,
            (args, kwargs),
            leaf_slots,
            constants,
            out_slots,
            single_output,
            frees,
            with_training,
            node_training,
        )

    def run(self, inputs, training=None):
        """Runs the plan on a flat list of input tensors and returns the flat list of outputs.

        Args:
            inputs: The input tensors, in the order of the model's flat inputs.
            training: The model call's `training` value. `None` inherits the enclosing call
                context (a model called inside a custom layer's `call`). The value is the call
                context of every layer inside while the plan runs.
        """
        outer_training, outer_losses = _context.training, _context.losses
        if training is None:
            training = outer_training
        # Set only when it changes: under `torch.compile` each write is a side effect dynamo
        # replays after every compiled call, even a write of the value already there.
        changes_training = training is not outer_training
        if changes_training:
            _context.training = training
        if outer_losses is None:
            _context.losses = collected = []  # the outermost call: this forward's losses
        elif _context.losses_added:  # (else no layer holds a loss: nothing to record)
            self.loss_collection = outer_losses
        runner = self.current_runner()
        try:
            results = runner[0](inputs, training, runner[1])
            if self._mask_pairs:
                for index, mask_index in self._mask_pairs:
                    results[index]._keras_mask = results[mask_index]
                del results[self._num_outputs :]
            return results
        except Exception as error:
            index = runner[2](error.__traceback__)
            if index is not None:
                _annotate(error, runner[3][index])
            raise
        finally:
            if changes_training:
                _context.training = outer_training
            if outer_losses is None:
                _context.losses = None
                # (A write replayed after each compiled call cost ~4% of a compiled MLP call.)
                record_losses(_context, collected, self.__dict__, "loss_collection")


def _run_loop(inputs, training, refs):
    steps, num_slots, output_slots = refs
    values = list(inputs) + [None] * (num_slots - len(inputs))
    for step in steps:
        step(values, training)
    return [values[s] for s in output_slots]


def _unknown_step(traceback):
    return None


def _loop_runner(plan, steps, nodes):
    """A runner calling `steps` in a loop (the steps' own closures; nothing generated)."""
    return _run_loop, (steps, plan.num_slots, plan.output_slots), _unknown_step, nodes


def _runner(plan, steps, nodes):
    run, refs, step_of = plan_codegen.generate(
        steps, plan.num_inputs, plan.num_slots, plan.output_slots, nodes[-1].operation.name if nodes else "empty"
    )
    return run, refs, step_of, nodes


def _annotate(error, node):
    operation = node.operation
    note = (
        f'Exception encountered when calling layer "{operation.name}" '
        f"({type(operation).__name__}) while running the model graph."
    )
    if sys.version_info >= (3, 11):
        if note not in getattr(error, "__notes__", ()):
            error.add_note(note)
