"""The data structures of training: targets, sample weights and outputs per model output, and
in-memory or iterable data turned into batches (with the checks that name the culprit).

Functions of the model, used by the `Trainer` mixin and the epoch loops.
"""

import torch

from keraslike.graph import nest
from keraslike.trainers.data_adapters import ArrayData, IterableData, is_array_like, to_tensor


def training_output_names(model):
    """The names a compiled model's losses and metrics are keyed by (one per output)."""
    if getattr(model, "_plan", None) is not None:
        return model.output_names
    return ["output_1"]


def flatten_targets(model, y, what="y"):
    """Returns `y` as a list with one target (or `None`) per model output."""
    names = training_output_names(model)
    if y is None:
        return [None] * len(names)
    if isinstance(y, dict):
        unknown = [k for k in y if k not in names]
        if unknown:
            raise ValueError(
                f"Target dict `{what}` has key(s) {unknown} that are not output names "
                f"{names}."
            )
        return [y.get(name) for name in names]
    with_loss = _outputs_with_loss(model)
    if len(names) > 1 and with_loss is not None and len(with_loss) < len(names):
        # Keras: when some outputs have a `None` loss, targets may be given for the others only.
        given = list(y) if isinstance(y, (list, tuple)) else [y]
        if len(given) == len(with_loss):
            flat = [None] * len(names)
            for index, target in zip(with_loss, given):
                flat[index] = target
            return flat
    if isinstance(y, (list, tuple)) and len(names) > 1:
        if len(y) != len(names):
            raise ValueError(
                f"The model has {len(names)} outputs {names}, but `{what}` has {len(y)} entries."
            )
        return list(y)
    if len(names) > 1:
        raise ValueError(
            f"The model has {len(names)} outputs {names}: pass `{what}` as a list or a dict "
            "keyed by output name."
        )
    return [y]


def _outputs_with_loss(model):
    """Indices of the outputs that have a compiled loss, or `None` when not compiled with one."""
    compile_loss = getattr(model, "_compile_loss", None)
    if compile_loss is None:
        return None
    return [i for i, spec in enumerate(compile_loss.specs) if spec is not None]


def flatten_sample_weights(model, sample_weight, n):
    """Returns sample weights as a list with one entry (or `None`) per output."""
    if sample_weight is None:
        return [None] * n
    if isinstance(sample_weight, dict):
        return [sample_weight.get(name) for name in training_output_names(model)]
    if isinstance(sample_weight, (list, tuple)) and n > 1:
        return list(sample_weight)
    return [sample_weight] * n


def flatten_outputs(model, y_pred):
    """Returns the model's outputs as a list in output-name order."""
    if isinstance(y_pred, dict):
        return [y_pred[name] for name in training_output_names(model)]
    if isinstance(y_pred, (list, tuple)):
        return list(y_pred)
    return [y_pred]


def prepare_array_inputs(model, x):
    """Converts in-memory `x` to tensors in the model's input structure, checking shapes."""
    if getattr(model, "_plan", None) is None:
        return nest.map_structure(lambda a: to_tensor(a, "x"), x)
    inputs = model._flat_inputs
    names = model.input_names
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(
                f'Missing data for input(s) {missing} of model "{model.name}". The dict `x` has '
                f"keys {list(x)}; expected {names}."
            )
        flat = [x[n] for n in names]
    elif isinstance(x, (list, tuple)) and len(inputs) > 1:
        if len(x) != len(inputs):
            raise ValueError(
                f'Model "{model.name}" has {len(inputs)} inputs {names}, but `x` has {len(x)} arrays.'
            )
        flat = list(x)
    else:
        flat = [x]
    tensors = []
    for array, spec, name in zip(flat, inputs, names):
        tensor = to_tensor(array, f'Input "{name}"', float_dtype=float_dtype(spec.dtype))
        expected = spec.shape
        if tensor.ndim != len(expected) or any(
            e is not None and e != a for e, a in zip(expected[1:], tuple(tensor.shape)[1:])
        ):
            raise ValueError(
                f'Input "{name}" of model "{model.name}" expects data of shape {expected}, but '
                f"received an array of shape {tuple(tensor.shape)}."
            )
        tensors.append(tensor)
    return tensors


def make_data(model, x, y, sample_weight, batch_size, shuffle, steps, what):
    """Returns `ArrayData` or `IterableData` for `fit`/`evaluate`/`predict` arguments."""
    if x is None:
        raise ValueError(f"`{what}` needs data: `x` is None.")
    if is_array_like(x):
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size}")
        xs = prepare_array_inputs(model, x)
        ys = [None if t is None else to_tensor(t, f'Target for output "{n}"')
              for t, n in zip(flatten_targets(model, y), training_output_names(model))]
        sws = [None if s is None else to_tensor(s, "sample_weight")
               for s in flatten_sample_weights(model, sample_weight, len(ys))]
        flat_xs = nest.flatten(xs)
        input_names = (
            model.input_names
            if getattr(model, "_plan", None) is not None
            else [f"x[{i}]" for i in range(len(flat_xs))]
        )
        check_sample_counts(flat_xs, ys, sws, input_names, training_output_names(model))
        return ArrayData(xs, ys, sws, batch_size or 32, shuffle)
    if y is not None:
        raise ValueError(
            f"`y` must not be given when `x` is a dataset, generator or PyDataset "
            f"(it yields `(x, y)` batches itself). Received type(x)={type(x).__name__}."
        )
    data = IterableData(x, steps=steps, batch_size=batch_size or 32, shuffle=shuffle)
    data.structure_targets = lambda y, sw: (
        flatten_targets(model, y),
        flatten_sample_weights(model, sw, len(training_output_names(model))),
    )
    return data


def validation_data(model, validation_data, batch_size, steps):
    """Returns the data object for `fit(validation_data=...)`."""
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and is_array_like(validation_data[0]):
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        return make_data(model, vx, vy, vsw, batch_size, False, steps, "validation_data")
    return make_data(model, validation_data, None, None, batch_size, False, steps, "validation_data")


def float_dtype(dtype_name):
    dtype = getattr(torch, str(dtype_name), torch.float32)
    return dtype if dtype.is_floating_point else torch.float32


def check_sample_counts(xs, ys, sws, input_names, output_names):
    counts = []
    for kind, names, tensors in (("input", input_names, xs), ("target", output_names, ys), ("sample_weight", output_names, sws)):
        for name, t in zip(names, tensors):
            if t is not None:
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
    for leaf in nest.flatten(x):
        if isinstance(leaf, torch.Tensor):
            return leaf.shape[0]
    return 1
