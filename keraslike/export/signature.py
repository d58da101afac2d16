"""Sample inputs and dynamic dimensions for exporting a model, from its `Input` shapes.

Every `None` dimension of an input becomes a named `torch.export.Dim` (the batch dimension is one
`Dim("batch")` shared by all inputs), and is traced at a size of its own (2 + a distinct offset),
so that no two dynamic dimensions are traced at the same size and none at 0 or 1, which
torch.export would specialize.
"""

import re

import torch

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


class InputSignature:
    """What an exported model takes: per flat input, its name, shape (with `None`), and dtype.

    Args:
        names: The Keras input names, in the model's flat input order.
        shapes: One shape tuple per input, batch dimension first, `None` for dynamic sizes.
        dtypes: One torch dtype per input.
    """

    def __init__(self, names, shapes, dtypes):
        self.names = list(names)
        self.shapes = [tuple(s) for s in shapes]
        self.dtypes = list(dtypes)
        self._dims = {}
        for index, shape in enumerate(self.shapes):
            for axis, size in enumerate(shape):
                if size is None:
                    self._dims[(index, axis)] = self._dim_name(index, axis)

    def _dim_name(self, index, axis):
        if axis == 0:
            return "batch"
        return f"{_identifier(self.names[index])}_dim{axis}"

    @property
    def dynamic_axes(self):
        """`{(input index, axis): dim name}` for every dynamic dimension."""
        return dict(self._dims)

    def dynamic_shapes(self):
        """The `dynamic_shapes` argument for `torch.export.export`, one dict per input."""
        dims = {name: torch.export.Dim(name, min=2) for name in sorted(set(self._dims.values()))}
        result = []
        for index, shape in enumerate(self.shapes):
            per_input = {axis: dims[self._dims[(index, axis)]] for axis in range(len(shape)) if (index, axis) in self._dims}
            result.append(per_input or None)
        return tuple(result)

    def sample(self, offset=0, device=None):
        """Random inputs with each dynamic dimension at its own size (shifted by `offset`)."""
        sizes = {name: 2 + i + offset for i, name in enumerate(sorted(set(self._dims.values())))}
        tensors = []
        for index, (shape, dtype) in enumerate(zip(self.shapes, self.dtypes)):
            concrete = [sizes[self._dims[(index, a)]] if d is None else d for a, d in enumerate(shape)]
            tensors.append(_random(concrete, dtype, device))
        return tensors


def _identifier(name):
    return re.sub(r"\W", "_", name)


def _random(shape, dtype, device):
    generator = torch.Generator().manual_seed(1234 + sum(shape))
    if dtype.is_floating_point:
        # In [0, 1): valid for every layer, also a float Input feeding an Embedding as indices.
        return torch.rand(shape, generator=generator, dtype=torch.float32).to(dtype=dtype, device=device)
    if dtype == torch.bool:
        return (torch.rand(shape, generator=generator) > 0.5).to(device)
    # Small non-negative integers: valid indices for Embedding and lookup layers.
    return torch.randint(0, 2, shape, generator=generator, dtype=dtype).to(device)


def signature_of(model, input_signature=None):
    """The `InputSignature` of `model`: from `input_signature` when given, else its `Input`s.

    Args:
        model: A functional or Sequential keraslike model.
        input_signature: Optional; one entry per input (a list, or a dict by input name; a
            single entry for a single-input model). An entry is a `keras.InputSpec`-like object
            or `KerasTensor` (anything with `.shape` and optionally `.dtype`), a torch tensor, or
            a shape tuple. Fix a dimension the model leaves `None` by giving its size here.

    Raises:
        ValueError: When the model has no known inputs, or an entry does not match an input.
    """
    flat_inputs = getattr(model, "inputs", None)
    if not flat_inputs:
        raise ValueError(
            f'Model "{model.name}" has no known inputs, so it cannot be exported. Build it on '
            "`keras.Input`s (a functional or Sequential model with an input shape) first."
        )
    names = [t._keras_history[0].name for t in flat_inputs]
    shapes = [tuple(t.shape) for t in flat_inputs]
    dtypes = [_DTYPES.get(str(t.dtype), torch.float32) for t in flat_inputs]
    if input_signature is not None:
        entries = _entries(input_signature, names, model.name)
        for i, entry in enumerate(entries):
            shape, dtype = _entry_shape_dtype(entry)
            if len(shape) != len(shapes[i]) or any(
                known is not None and given is not None and known != given
                for known, given in zip(shapes[i], shape)
            ):
                raise ValueError(
                    f'input_signature for input "{names[i]}" of model "{model.name}" has shape '
                    f"{shape}, which does not fit the model's input shape {shapes[i]}."
                )
            shapes[i] = tuple(given if given is not None else known for known, given in zip(shapes[i], shape))
            if dtype is not None:
                dtypes[i] = dtype
    return InputSignature(names, shapes, dtypes)


def _entries(input_signature, names, model_name):
    if isinstance(input_signature, dict):
        missing = [n for n in names if n not in input_signature]
        if missing:
            raise ValueError(
                f'input_signature is missing the inputs {missing} of model "{model_name}". '
                f"Received keys: {sorted(input_signature)}"
            )
        return [input_signature[n] for n in names]
    if isinstance(input_signature, (list, tuple)) and not _is_shape(input_signature):
        entries = list(input_signature)
    else:
        entries = [input_signature]
    if len(entries) != len(names):
        raise ValueError(
            f'input_signature has {len(entries)} entries, but model "{model_name}" has '
            f"{len(names)} inputs {names}."
        )
    return entries


def _is_shape(value):
    return all(d is None or isinstance(d, int) for d in value)


def _entry_shape_dtype(entry):
    if isinstance(entry, torch.Tensor):
        return tuple(entry.shape), entry.dtype
    if isinstance(entry, (list, tuple)) and _is_shape(entry):
        return tuple(entry), None
    shape = getattr(entry, "shape", None)
    if shape is None:
        raise ValueError(
            "Each input_signature entry must be a shape tuple, a tensor, or have `.shape` "
            f"(keras.InputSpec, KerasTensor). Received: {entry!r}"
        )
    dtype = getattr(entry, "dtype", None)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        dtype = _DTYPES.get(str(dtype))
    return tuple(shape), dtype
