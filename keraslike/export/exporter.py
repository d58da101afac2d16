"""`model.export`: a verified `torch.export` program (`.pt2`) or ONNX file of a keraslike model.

The model is traced in inference mode (its mode is restored afterwards) on sample inputs made from
its `Input` shapes, every `None` dimension dynamic; the artifact is then run at the traced sizes
and at a second size of every dynamic dimension and compared with the eager model. A mismatch, or
a dimension the model cannot keep dynamic (a recurrent layer over a time axis of unknown length),
is an error naming what to fix; a wrong file is never left behind.
"""

import os
import re

import torch

from keraslike.export.artifacts import output_names, write_atomically
from keraslike.export.flat_module import FlatModule
from keraslike.export.onnx_format import write_onnx
from keraslike.export.signature import signature_of
from keraslike.export.verify import compare

FORMATS = ("torch", "onnx")


def export_model(model, filepath, format="torch", input_signature=None, verbose=True, **kwargs):
    """Exports `model` to `filepath` and verifies the artifact against the eager model.

    Args:
        model: A functional or Sequential keraslike model.
        filepath: Where to write: a `.pt2` file for `format="torch"`, a `.onnx` file for
            `format="onnx"`.
        format: `"torch"` (a `torch.export` program, loaded with `torch.export.load`) or
            `"onnx"` (through `torch.onnx.export(dynamo=True)`).
        input_signature: Optional shapes (and dtypes) of the inputs; see
            `keraslike.export.signature.signature_of`. `None` dimensions are dynamic.
        verbose: Whether to print what was written and checked.
        **kwargs: Passed on to `torch.export.export` (`strict`, ...) or `torch.onnx.export`
            (`opset_version`, ...).

    Returns:
        The `torch.export.ExportedProgram` that was written.

    Raises:
        ValueError: For an unknown format, a dimension that cannot stay dynamic, or an artifact
            that does not compute what the model computes (`ExportVerificationError`).
    """
    if format not in FORMATS:
        hint = ' (TensorFlow formats need TensorFlow; keraslike exports "torch" and "onnx")' if format in (
            "tf_saved_model", "litert", "openvino", "tflite") else ""
        raise ValueError(f"Unrecognized format={format!r}{hint}. Expected one of {FORMATS}.")
    filepath = os.fspath(filepath)
    signature = signature_of(model, input_signature)
    was_training = model.training
    model.eval()
    try:
        flat = FlatModule(model)
        program = _export_program(model, flat, signature, kwargs if format == "torch" else {})
        checks = _verify_program(model, flat, program, signature)
        if format == "torch":
            write_atomically(filepath, lambda path: torch.export.save(program, path))
        else:
            checks = write_onnx(model, flat, program, signature, filepath, kwargs)
    finally:
        model.train(was_training)
    if verbose:
        dims = sorted(set(signature.dynamic_axes.values()))
        print(
            f"Saved the {format} export of model \"{model.name}\" to {filepath}; inputs "
            f"{signature.names}, dynamic dimensions {dims or 'none'}; checked against the eager "
            f"model at {checks}."
        )
    return program


def _export_program(model, flat, signature, kwargs):
    sample = tuple(signature.sample())
    try:
        # One entry for `FlatModule.forward(*inputs)`: the tuple of per-input dynamic dimensions.
        return torch.export.export(flat, sample, dynamic_shapes=(signature.dynamic_shapes(),), **kwargs)
    except Exception as error:  # torch.export's UserError / ConstraintViolationError
        if "specialized" not in str(error) and "Constraints violated" not in str(error):
            raise
        raise ValueError(_static_dimension_message(model, signature, error)) from error


def _static_dimension_message(model, signature, error):
    found = re.findall(r"You marked (\w+) as dynamic but your code specialized it to be a constant \((\d+)\)", str(error))
    dims = ", ".join(f"{name} (traced at {size})" for name, size in found) or "a dynamic dimension"
    culprits = [
        f'"{op.name}" ({type(op).__name__})'
        for op in model.modules()
        if getattr(type(op), "_export_static_axes", None)
    ]
    where = (
        f" The recurrent layer(s) {', '.join(culprits)} run a loop over the time axis, which "
        "torch.export cannot keep dynamic (the same holds for torch.nn.LSTM)."
        if culprits
        else ""
    )
    return (
        f'Model "{model.name}" cannot be exported with {dims} dynamic: the model needs a fixed '
        f"size there.{where} Fix the size with `input_signature`, e.g. "
        f"model.export(path, input_signature=[{_example_signature(signature)}])."
    )


def _example_signature(signature):
    dynamic = signature.dynamic_axes
    entries = []
    for index, shape in enumerate(signature.shapes):
        fixed = ["None" if axis == 0 else (str(10) if (index, axis) in dynamic else str(d)) for axis, d in enumerate(shape)]
        entries.append("(" + ", ".join(fixed) + ("," if len(fixed) == 1 else "") + ")")
    return ", ".join(entries)


def _verify_program(model, flat, program, signature):
    """Runs the program at the traced sizes and at new ones; returns a description of the sizes."""
    runs = [signature.sample(offset=0)]
    if signature.dynamic_axes:
        runs.append(signature.sample(offset=3))
    module = program.module()
    described = []
    with torch.no_grad():
        for inputs in runs:
            expected = _as_list(flat(*inputs))
            actual = _as_list(module(*inputs))
            where = f"the exported program at input shapes {[tuple(x.shape) for x in inputs]}"
            for name, e, a in zip(output_names(model), expected, actual):
                compare(name, e, a, where)
            described.append(str([tuple(x.shape) for x in inputs]))
    return " and ".join(described)


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
