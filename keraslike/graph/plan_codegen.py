"""The plan's steps as one generated straight-line function (as torch.fx turns a graph into code).

A plan's steps are small closures; `ExecutionPlan.run` used to call them in a loop. Each
closure holds its constants (slots, whether to free a slot, recorded keyword arguments, the
node's `training`) in cells. Eagerly that is cheap, but `torch.compile` guards on every cell it
reads: hundreds of guards for a small model, evaluated on every compiled call (the MLP's
compiled forward was 1.2-1.4x the hand-written module's, all of it guard evaluation).

Here the steps become the body of one generated function: slot numbers, frees, conversions and
keyword arguments that are plain literals are written into the code, so neither the eager
interpreter nor dynamo reads them from anywhere; what the code calls (each layer's bound call,
a step it cannot write out) is passed in one tuple. What a step is comes from the `spec`
attribute its builder attached (`plan.py`, `layout.py`); a step without one (fused chains,
nested-structure calls) is called as before, so the generated code never differs from the
steps in what it computes, only in how it is dispatched.

Invalidation: the function is generated from a list of steps and nothing else, whenever the
plan (re)builds that list (`ExecutionPlan.current_steps`), so it is exactly as fresh as the
steps. It is compiled from source text built here in memory (never read from a file).
"""

import builtins
import inspect
import keyword
import linecache
import math
import weakref

_LITERAL_TYPES = (bool, int, str, type(None))
_COUNTER = [0]


def _literal(value):
    """Source text for `value` when it is a plain literal whose `repr` round-trips, else None."""
    if type(value) in _LITERAL_TYPES:
        return repr(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if type(value) is tuple and all(_literal(v) is not None for v in value):
        return repr(value)
    return None


class _Writer:
    """Collects the generated lines and the objects they refer to (`refs[i]` is `r{i}`)."""

    def __init__(self):
        self.lines = []
        self.refs = []
        self.step_of_line = []  # per generated body line: the index of its step

    def ref(self, obj):
        self.refs.append(obj)
        return f"r{len(self.refs) - 1}"

    def emit(self, step_index, text):
        self.lines.append(text)
        self.step_of_line.append(step_index)

    def value(self, obj):
        text = _literal(obj)
        return text if text is not None else self.ref(obj)

    def kwargs(self, kwargs):
        """`, k=v, ...` for a constant keyword dict (literals inline, other values by ref)."""
        if not kwargs:
            return ""
        if all(isinstance(k, str) and k.isidentifier() and not keyword.iskeyword(k) for k in kwargs):
            return "".join(f", {k}={self.value(v)}" for k, v in kwargs.items())
        return f", **{self.ref(kwargs)}"


def _callable(w, fn):
    """`fn` as an expression: `rK.method` for a method bound to an object whose class defines
    it (a layer's `call`), else `rK` (the bound method itself)."""
    owner, func = getattr(fn, "__self__", None), getattr(fn, "__func__", None)
    name = getattr(func, "__name__", None)
    if (owner is not None and name is not None and name.isidentifier()
            and getattr(type(owner), name, None) is func and name not in getattr(owner, "__dict__", {})):
        return f"{w.ref(owner)}.{name}"
    return w.ref(fn)


def _defaults_training_to_none(fn):
    """Whether `fn` is a method whose `training` parameter defaults to None (so passing
    `training=None` is the same as passing nothing)."""
    func = getattr(fn, "__func__", None)
    if func is None:
        return False
    try:
        param = inspect.signature(func).parameters.get("training")
    except (TypeError, ValueError):
        return False
    return param is not None and param.default is None


def _training_call(w, fn, args, kw, with_training, node_training, fn_object=None):
    """The call expression of a step, with Keras's rule for `training` (see `plan.py`)."""
    if not with_training:
        return f"{fn}({args}{kw})"
    if node_training is None:
        if _defaults_training_to_none(fn_object):
            # One call form whatever `training` is: under dynamo, no guard on the defaults.
            return f"{fn}({args}, training=training{kw})"
        return f"({fn}({args}{kw}) if training is None else {fn}({args}, training=training{kw}))"
    return f"{fn}({args}, training=({w.value(node_training)} if training is None else training){kw})"


def _write_step(w, index, step):
    spec = getattr(step, "spec", None)
    kind = spec[0] if spec is not None else None
    if kind == "single":
        _, fn, src, dst, kwargs, free_src, with_training, node_training = spec
        w.emit(index, f"x = v[{src}]")
        if free_src:
            w.emit(index, f"v[{src}] = None")
        call = _training_call(w, _callable(w, fn), "x", w.kwargs(kwargs), with_training, node_training, fn)
        w.emit(index, f"v[{dst}] = {call}")
    elif kind == "list":
        _, fn, srcs, dst, kwargs, frees, with_training, node_training = spec
        w.emit(index, "x = [" + ", ".join(f"v[{s}]" for s in srcs) + "]")
        for s in frees:
            w.emit(index, f"v[{s}] = None")
        call = _training_call(w, _callable(w, fn), "x", w.kwargs(kwargs), with_training, node_training, fn)
        w.emit(index, f"v[{dst}] = {call}")
    elif kind == "general":
        _, fn, args, kwargs, dst, frees, with_training, node_training = spec
        if not args or not all(k.isidentifier() and not keyword.iskeyword(k) for k, _ in kwargs):
            w.emit(index, f"{w.ref(step)}(v, training)")  # `f(x=...)` only, or odd names
            return
        names = []
        for position, (what, value) in enumerate(args + [item for _, item in kwargs]):
            if what == "slot":
                w.emit(index, f"a{position} = v[{value}]")  # read before any slot is freed
                names.append(f"a{position}")
            else:
                names.append(w.value(value))
        for s in frees:
            w.emit(index, f"v[{s}] = None")
        positional = ", ".join(names[: len(args)])
        kw = "".join(f", {k}={names[len(args) + i]}" for i, (k, _) in enumerate(kwargs))
        call = _training_call(w, _callable(w, fn), positional, kw, with_training, node_training, fn)
        w.emit(index, f"v[{dst}] = {call}")
    elif kind == "convert":
        _, conversions, inner = spec
        kept = []
        for s, perm, in_place in conversions:
            if not in_place:
                kept.append(s)
                w.emit(index, f"k{s} = v[{s}]")  # later readers still want this layout
            w.emit(index, f"v[{s}] = v[{s}].permute({perm!r})")
        _write_step(w, index, inner)
        for s in kept:
            w.emit(index, f"v[{s}] = k{s}")
    elif kind == "finish":
        for s, perm in spec[1]:
            w.emit(index, f"v[{s}] = v[{s}].permute({perm!r})")
    else:
        w.emit(index, f"{w.ref(step)}(v, training)")


def generate(steps, num_inputs, num_slots, output_slots, name="plan"):
    """Compiles `steps` (each `step(values, training)`) into one function.

    Args:
        steps: The steps, in order.
        num_inputs: How many input values fill the first slots.
        num_slots: How many value slots the steps use.
        output_slots: The slots returned, in order.
        name: A label for tracebacks (`<keraslike plan NAME>`).

    Returns:
        `(run, refs, step_of)`: `run(inputs, training, refs)` fills the slots from the list
        `inputs`, runs every step and returns the list of output values; `refs` is the tuple
        to pass; `step_of(traceback)` is the index of the step whose line raised (or None when
        the error did not come from a step's line).
    """
    w = _Writer()
    for index, step in enumerate(steps):
        _write_step(w, index, step)
    slots = [f"inputs[{i}]" for i in range(num_inputs)] + ["None"] * (num_slots - num_inputs)
    header = ["def run(inputs, training, refs):"]
    if w.refs:
        header.append("    (" + ", ".join(f"r{i}" for i in range(len(w.refs))) + ",) = refs")
    header.append("    v = [" + ", ".join(slots) + "]")
    first_body_line = len(header) + 1  # 1-based line number of the first step line
    footer = ["    return [" + ", ".join(f"v[{s}]" for s in output_slots) + "]"]
    source = "\n".join(header + ["    " + line for line in w.lines] + footer) + "\n"
    _COUNTER[0] += 1
    filename = f"<keraslike plan {name} #{_COUNTER[0]}>"
    # Registered so tracebacks through the generated code show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    # Real builtins: C code called from the generated frame (an import in torch's Python
    # dispatch under a TorchDispatchMode) looks `__import__` up in the frame's builtins.
    namespace = {"__builtins__": builtins}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102  (source built above)
    run = namespace["run"]
    weakref.finalize(run, linecache.cache.pop, filename, None)  # the lines live as long as the code
    code = run.__code__
    step_of_line = w.step_of_line

    def step_of(traceback):
        line = None
        while traceback is not None:
            if traceback.tb_frame.f_code is code:
                line = traceback.tb_lineno
            traceback = traceback.tb_next
        if line is None:
            return None
        offset = line - first_body_line
        return step_of_line[offset] if 0 <= offset < len(step_of_line) else None

    return run, tuple(w.refs), step_of
