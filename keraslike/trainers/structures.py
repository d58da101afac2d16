"""The data structures of training: Keras's `(x, y, sample_weight)` batches, targets / outputs /
sample weights split per model output, and in-memory or iterable data adapted to the model's
inputs (dtype and trailing-axis rank as Keras adapts them), with the checks that name the culprit.
"""

import numpy as np
import torch

from keraslike.backend.errors import ArgumentTypeError, MissingDataError
from keraslike.graph import nest
from keraslike.losses.loss import torch_dtype
from keraslike.trainers.data_adapters import ArrayData, IterableData, is_array_like, to_tensor


def unpack_x_y_sample_weight(data):
    """Splits a batch into `(x, y, sample_weight)` as Keras does.

    Args:
        data: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` (a list counts as a tuple).

    Returns:
        The tuple `(x, y, sample_weight)`, with `None` for what `data` does not hold.

    Example:

    ```python
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    ```
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs `x`, `y` and `sample_weight` into the tuple a step receives (Keras's rule)."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def training_output_names(model):
    """The names a compiled model's losses and metrics are keyed by (one per output)."""
    if getattr(model, "_plan", None) is not None:
        return model.output_names
    return ["output_1"]


def split_targets(names, y, with_loss=None, what="y"):
    """Returns `y` as a list with one target (or `None`) per output named in `names`.

    `with_loss` lists the indices of the outputs that have a loss (`None`: all): as in Keras,
    when some outputs have a `None` loss, targets may be given for the others only.
    """
    n = len(names)
    if n == 1 and not isinstance(y, dict):
        if isinstance(y, (list, tuple)) and len(y) == 1 and hasattr(y[0], "shape"):
            return [y[0]]  # `[targets]` for the one output (Keras flattens the structure)
        return [y]
    if y is None:
        return [None] * n
    if isinstance(y, dict):
        unknown = [k for k in y if k not in names]
        if unknown:
            raise ValueError(
                f"Target dict `{what}` has key(s) {unknown} that are not output names {names}."
            )
        return [y.get(name) for name in names]
    if with_loss is not None and len(with_loss) < n:
        given = list(y) if isinstance(y, (list, tuple)) else [y]
        if len(given) == len(with_loss):
            flat = [None] * n
            for index, target in zip(with_loss, given):
                flat[index] = target
            return flat
    if isinstance(y, (list, tuple)):
        if len(y) != n:
            raise ValueError(f"The model has {n} outputs {names}, but `{what}` has {len(y)} entries.")
        return list(y)
    raise ValueError(
        f"The model has {n} outputs {names}: pass `{what}` as a list or a dict keyed by output name."
    )


def split_sample_weights(names, sample_weight):
    """Returns sample weights as a list with one entry (or `None`) per output."""
    n = len(names)
    if sample_weight is None:
        return [None] * n
    if isinstance(sample_weight, dict):
        return [sample_weight.get(name) for name in names]
    if isinstance(sample_weight, (list, tuple)) and n > 1:
        return list(sample_weight)
    return [sample_weight] * n


def split_outputs(names, y_pred):
    """Returns the model's outputs as a list in output-name order."""
    if isinstance(y_pred, dict):
        return [y_pred[name] for name in names]
    if isinstance(y_pred, (list, tuple)):
        return list(y_pred)
    return [y_pred]


def flatten_targets(model, y, what="y"):
    """`split_targets` for a model (knowing which outputs have a compiled loss)."""
    compile_loss = getattr(model, "_compile_loss", None)
    with_loss = compile_loss.with_loss if compile_loss is not None else None
    return split_targets(training_output_names(model), y, with_loss, what)


def flatten_outputs(model, y_pred):
    """`split_outputs` for a model."""
    return split_outputs(training_output_names(model), y_pred)


# ---------------------------------------------------------------------- inputs as Keras adapts them


def _input_specs(model):
    """`[(name, KerasTensor)]` of a graph model's inputs, or `None` for a subclassed model."""
    if getattr(model, "_plan", None) is None:
        return None
    struct = model._inputs_struct
    if isinstance(struct, dict) and all(not isinstance(v, (dict, list, tuple)) for v in struct.values()):
        # A model built on a dict of Inputs takes its data by the dict's keys, as Keras.
        return list(zip(nest._keys(struct), model._flat_inputs))
    return list(zip(model.input_names, model._flat_inputs))


def _input_dtype(spec):
    try:
        return torch_dtype(spec.dtype) if spec.dtype is not None else None
    except ValueError:  # a dtype torch has no tensor for (e.g. strings): leave the data as it is
        return None


def _adapt_input(model, tensor, name, spec):
    """Casts one input to its Input's dtype and adjusts a trailing axis of size 1, as Keras's
    functional call does (`(n, 28, 28)` into `Input((28, 28, 1))` and the reverse)."""
    if tensor is None:
        return None
    dtype = _input_dtype(spec)
    if dtype is not None and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    expected = spec.shape
    if tensor.ndim == len(expected) + 1 and tensor.shape[-1] == 1:
        tensor = tensor.squeeze(-1)
    elif tensor.ndim == len(expected) - 1 and expected[-1] == 1:
        tensor = tensor.unsqueeze(-1)
    if tensor.ndim != len(expected) or any(
        e is not None and e != a for e, a in zip(expected[1:], tuple(tensor.shape)[1:])
    ):
        raise ValueError(
            f'Input "{name}" of model "{model.name}" expects data of shape {expected}, but '
            f"received an array of shape {tuple(tensor.shape)}."
        )
    return tensor


def adapt_inputs(model, x, convert=None):
    """Returns `x` (a tensor, list or dict by input name) with each input adapted to the model.

    Args:
        model: The model.
        x: The inputs, in the user's structure.
        convert: Optional `(leaf, what) -> tensor` applied to each leaf first.
    """
    specs = _input_specs(model)
    convert = convert or (lambda leaf, what: to_tensor(leaf, what))
    if specs is None:
        return nest.map_structure(lambda a: None if a is None else convert(a, "x"), x)
    names = [name for name, _ in specs]
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(
                f'Missing data for input(s) {missing} of model "{model.name}". The dict `x` has '
                f"keys {list(x)}; expected {names}."
            )
        return {
            key: _adapt_input(model, convert(x[key], f'Input "{key}"'), key, dict(specs)[key])
            if key in names else x[key]
            for key in x
        }
    if isinstance(x, (list, tuple)) and len(specs) > 1:
        if len(x) != len(specs):
            raise ValueError(
                f'Model "{model.name}" has {len(specs)} inputs {names}, but `x` has {len(x)} arrays.'
            )
        return [
            _adapt_input(model, None if a is None else convert(a, f'Input "{n}"'), n, spec)
            for a, (n, spec) in zip(x, specs)
        ]
    if isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]
    name, spec = specs[0]
    return _adapt_input(model, convert(x, f'Input "{name}"'), name, spec)


# The step of the model that each data-taking method runs.
_STEP_OF = {
    "fit": "train_step",
    "train_on_batch": "train_step",
    "evaluate": "test_step",
    "validation_data": "test_step",
    "test_on_batch": "test_step",
    "predict": "predict_step",
    "predict_on_batch": "predict_step",
}


def step_overridden(model, what):
    """Whether the model's class replaces the built-in step that `what` (`"fit"`,
    `"evaluate"`, ...) runs: that step then receives the data as Keras gives it, not adapted to
    the model's inputs (it may split, stack or ignore them before calling the model)."""
    step = getattr(type(model), _STEP_OF.get(what, ""), None)
    return step is not None and not getattr(step, "_builtin_step", False)


def make_data(model, x, y, sample_weight, batch_size, shuffle, steps, what, class_weight=None):
    """Returns `ArrayData` or `IterableData` for `fit`/`evaluate`/`predict` arguments."""
    if x is None:
        raise MissingDataError(f"`{what}` needs data: `x` is None.")
    if class_weight and sample_weight is not None:
        raise ValueError(
            "You cannot `class_weight` and `sample_weight` at the same time. "
            f"Received: class_weight={class_weight}"
        )
    check_steps(steps, what)
    raw = step_overridden(model, what)
    if is_array_like(x):
        check_batch_size(batch_size)
        # A user's step gets `x` as Keras gives it (its structure and shapes; floats as
        # float32); the model adapts it when the step calls it.
        if raw:
            xs = nest.map_structure(lambda t: None if t is None else to_tensor(t, "x"), x)
        else:
            xs = adapt_inputs(model, x)
        ys = nest.map_structure(lambda t: None if t is None else to_tensor(t, "Target"), y)
        sws = nest.map_structure(lambda t: None if t is None else to_tensor(t, "sample_weight"), sample_weight)
        names = training_output_names(model)
        compile_loss = getattr(model, "_compile_loss", None)
        flat_ys = split_targets(names, ys, compile_loss.with_loss if compile_loss is not None else None)
        flat_sws = split_sample_weights(names, sws)
        check_sample_counts(_named_inputs(model, xs), list(zip(names, flat_ys)), list(zip(names, flat_sws)))
        data = ArrayData(xs, ys, sws, batch_size, shuffle, steps)
        data.what = what
        if not data.num_samples and what in _EMPTY_REFUSED:
            raise ValueError(
                f"`{what}` received no samples: `x` holds 0 of them "
                f"({', '.join(f'{n}: {tuple(t.shape)}' for n, t in _named_inputs(model, xs))})."
            )
    else:
        if y is not None:
            raise ValueError(
                f"`y` must not be given when `x` is a dataset, generator or PyDataset "
                f"(it yields `(x, y)` batches itself). Received type(x)={type(x).__name__}."
            )
        data = IterableData(x, steps=steps, batch_size=batch_size or 32, shuffle=shuffle)
        data.what = what
        data.raw_batches = raw
        if not raw:
            data.adapt_inputs = lambda batch_x: adapt_inputs(model, batch_x, convert=data.convert)
    if class_weight:
        if len(training_output_names(model)) > 1:
            raise ValueError("`class_weight` is only supported for models with a single output.")
        data.class_weight = class_weight
    return data


_EMPTY_REFUSED = ("fit", "evaluate", "predict", "validation_data")
_STEPS_ARGUMENT = {"fit": "steps_per_epoch", "validation_data": "validation_steps"}


def check_batch_size(batch_size):
    """Refuses a `batch_size` that is not a positive Python int (or `None`), as Keras does: a
    TypeError for a non-number (Keras fails dividing by it), a ValueError for any other value
    (a float, a bool, a numpy integer, zero or less; Keras silently uses 32 for 0, a
    mistake here)."""
    if batch_size is None:
        return
    if not isinstance(batch_size, (int, float, np.number)):
        raise ArgumentTypeError(
            "`batch_size` must be a positive integer. "
            f"Received: batch_size={batch_size!r} of type {type(batch_size).__name__}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")


def check_steps(steps, what):
    """Refuses a step count that is not a positive integer (or `None`), naming the argument
    (a TypeError for a non-number, as Keras's)."""
    if steps is None:
        return
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        name = _STEPS_ARGUMENT.get(what, "steps")
        # Keras: a zero or negative count is a ValueError, any non-integer a TypeError.
        error = ValueError if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) else ArgumentTypeError
        raise error(
            f"`{name}` must be a positive integer or `None`. Received: {name}={steps!r}"
        )


def validation_data(model, validation_data, batch_size, steps):
    """Returns the data object for `fit(validation_data=...)`."""
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 1:
        validation_data = validation_data[0]  # `(x,)`: Keras unpacks it to `x`
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and is_array_like(validation_data[0]):
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        data = make_data(model, vx, vy, vsw, batch_size, False, steps, "validation_data")
        data.continue_passes = False  # each validation run starts from the start, as Keras's does
        return data
    data = make_data(model, validation_data, None, None, batch_size, False, steps, "validation_data")
    data.continue_passes = False  # each validation run starts from the start, as Keras's does
    return data


def _named_inputs(model, xs):
    """`[(name, tensor)]` of adapted inputs, named after the model's inputs where known."""
    if isinstance(xs, dict):
        return list(xs.items())
    flat = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    names = model.input_names if getattr(model, "_plan", None) is not None else []
    return [(names[i] if i < len(names) else f"x[{i}]", t) for i, t in enumerate(flat)]


def check_sample_counts(inputs, targets, sample_weights):
    """Raises when the arrays do not all hold the same number of samples, listing each one."""
    counts = []
    for kind, named in (("input", inputs), ("target", targets), ("sample_weight", sample_weights)):
        for name, t in named:
            if isinstance(t, torch.Tensor):
                counts.append((f'{kind} "{name}"', tuple(t.shape)))
    sizes = {shape[0] for _, shape in counts if shape}
    if len(sizes) > 1:
        listing = ", ".join(f"{what}: {shape}" for what, shape in counts)
        raise ValueError(
            f"Data cardinality is ambiguous: all arrays must contain the same number of samples. "
            f"Received {listing}."
        )


def batch_size(x):
    """The leading dimension of the first tensor in `x` (1 when there is none)."""
    if type(x) is torch.Tensor:
        return x.shape[0]
    for leaf in nest.flatten(x):
        if isinstance(leaf, torch.Tensor):
            return leaf.shape[0]
    return 1
