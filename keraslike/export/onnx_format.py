"""ONNX export through torch's dynamo exporter, verified in onnxruntime when it is installed.

Needs the optional extra `keraslike[export]` (onnx, onnxscript; onnxruntime for verification).
"""

import logging
import warnings

import torch

from keraslike.export.artifacts import output_names, write_atomically
from keraslike.export.verify import compare


def write_onnx(model, flat, program, signature, filepath, kwargs):
    """Converts the verified `program` to ONNX at `filepath`, named after the Keras inputs and
    outputs, and checks the file at the traced sizes and at new ones.

    Returns:
        A description of the sizes that were checked.

    Raises:
        ImportError: When `onnx`/`onnxscript` are missing.
        ValueError: When the ONNX model does not compute what the eager model computes.
    """
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(
            'format="onnx" needs the packages onnx and onnxscript (pip install "keraslike[export]").'
        ) from error
    names_out = output_names(model)

    def write(path):
        onnx_program = torch.onnx.export(
            program,
            f=None,
            dynamo=True,
            input_names=list(signature.names),
            output_names=names_out,
            verbose=False,
            **kwargs,
        )
        onnx_program.save(path)
        _name_dynamic_dimensions(path, signature, names_out)

    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # it lists every torchvision op it skips, as warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_atomically(filepath, lambda path: _write_checked(path, write, model, flat, signature, names_out))
    finally:
        exporter_log.setLevel(level)
    return _described(signature)


def _name_dynamic_dimensions(path, signature, names_out):
    """Gives the file's dynamic dimensions our names (`batch`, `<input>_dim1`), inputs and outputs alike."""
    import onnx

    model = onnx.load(path)
    renamed = {}
    for index, graph_input in enumerate(model.graph.input[: len(signature.names)]):
        for axis, dim in enumerate(graph_input.type.tensor_type.shape.dim):
            name = signature.dynamic_axes.get((index, axis))
            if name is not None and dim.dim_param:
                renamed.setdefault(dim.dim_param, name)
                dim.dim_param = name
    for graph_output in model.graph.output:
        for dim in graph_output.type.tensor_type.shape.dim:
            if dim.dim_param in renamed:
                dim.dim_param = renamed[dim.dim_param]
    onnx.save(model, path)


def _write_checked(path, write, model, flat, signature, names_out):
    write(path)
    try:
        import onnxruntime
    except ImportError:
        warnings.warn(
            "onnxruntime is not installed: the ONNX file was written but not run against the "
            'eager model (pip install "keraslike[export]" to verify exports).',
            stacklevel=4,
        )
        return
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed_names = [i.name for i in session.get_inputs()]
    if feed_names != list(signature.names):
        raise ValueError(f"The ONNX model's inputs are {feed_names}, expected {signature.names}.")
    for offset in _offsets(signature):
        inputs = signature.sample(offset=offset)
        with torch.no_grad():
            expected = flat(*inputs)
        expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        feed = {name: x.cpu().numpy() for name, x in zip(signature.names, inputs)}
        actual = session.run(names_out, feed)
        where = f"the ONNX model at input shapes {[tuple(x.shape) for x in inputs]}"
        for name, e, a in zip(names_out, expected, actual):
            compare(name, e, a, where)


def _offsets(signature):
    return (0, 3) if signature.dynamic_axes else (0,)


def _described(signature):
    return " and ".join(str([tuple(x.shape) for x in signature.sample(offset=o)]) for o in _offsets(signature))
