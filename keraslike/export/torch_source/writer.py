"""Writes a built keraslike model as the source of standalone `nn.Module` classes.

One class per model (nested models get their own class, used as a submodule), one attribute per
layer holding the torch module of its weights (a shared layer is one attribute called several
times), and a `forward` that follows the graph's execution order with a shape comment per line.
"""

import keyword
import operator
import re

import torch
from torch import nn

from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.operation import TorchFunction
from keraslike.export.torch_source.errors import Untranslatable
from keraslike.export.torch_source.helpers import HELPERS
from keraslike.export.torch_source.translators import translator_for

_RESERVED = set(dir(nn.Module)) | {"self", "torch", "nn", "F", "load", "x"}


def identifier(name, taken):
    """A Python identifier made from `name`, unique among `taken` (which it joins)."""
    base = re.sub(r"\W", "_", str(name)) or "value"
    if base[0].isdigit():
        base = "_" + base
    if keyword.iskeyword(base) or base in _RESERVED:
        base += "_"
    candidate, index = base, 1
    while candidate in taken:
        index += 1
        candidate = f"{base}_{index}"
    taken.add(candidate)
    return candidate


def class_name(name, taken):
    """A CamelCase class name for a model named `name` (`mnist_model` -> `MnistModel`)."""
    camel = "".join(part[:1].upper() + part[1:] for part in re.split(r"[\W_]+", str(name)) if part)
    return identifier(camel or "Model", taken)


def shape_comment(tensor):
    """`(B, 32, 32, 3)` for a KerasTensor of shape `(None, 32, 32, 3)`."""
    dims = ["B" if i == 0 and d is None else ("?" if d is None else str(d)) for i, d in enumerate(tensor.shape)]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


class SourceWriter:
    """Collects the classes, helpers and weights of one ejected model.

    Args:
        top: The model being ejected.
    """

    def __init__(self, top):
        self.top = top  # the model whose class returns the outputs' structure (others: tuples)
        self.classes = []  # source of each class, nested ones first
        self.helpers = set()
        self.sources = {}  # helpers declared by layers: {name: source}
        self.errors = []
        self._class_names = set()
        self._written = {}  # id(model) -> class name

    def add_sources(self, layer, sources):
        """Adds the helper sources a layer declared; one name cannot stand for two sources."""
        for name, source in sources.items():
            if name in HELPERS or self.sources.setdefault(name, source) != source:
                raise Untranslatable(
                    f'Layer "{layer.name}" ({type(layer).__name__}) declares a torch-source helper '
                    f'named "{name}", which another helper of this file already uses with a '
                    "different source."
                )

    def write_model(self, model):
        """Writes the class of `model` (and of its nested models); returns `(name, state)`."""
        if id(model) in self._written:
            return self._written[id(model)]
        plan = getattr(model, "_plan", None)
        if plan is None:
            raise Untranslatable(
                f'Model "{model.name}" ({type(model).__name__}) has no graph (a subclassed model '
                "or an unbuilt Sequential): only functional and built Sequential models can be "
                "written as torch source."
            )
        name = class_name(model.name, self._class_names)
        body = _ClassBody(self, model)
        source, state = body.render(name)
        self.classes.append(source)
        self._written[id(model)] = (name, state)
        return name, state


class _ClassBody:
    def __init__(self, writer, model):
        self.writer = writer
        self.model = model
        self.attributes = {}  # id(layer) -> attribute name
        self.init_lines = []
        self.forward_lines = []
        self.state = {}
        self.variables = {}  # id(KerasTensor) -> expression
        self.taken_attributes = set()
        self.taken_variables = set()

    def render(self, name):
        model = self.model
        parameters = []
        for tensor in model.inputs:
            variable = identifier(tensor._keras_history[0].name, self.taken_variables)
            self.variables[id(tensor)] = variable
            parameters.append(variable)
            self.forward_lines.append(f"# {variable}: {shape_comment(tensor)}")
        for node in model._plan.step_nodes:
            try:
                self._node(node)
            except Untranslatable as error:
                self.writer.errors.append(str(error))
                self._assign(node, "None")  # keeps going, to name every untranslatable layer
        self.forward_lines.append(f"return {self._outputs()}")
        init = ["super().__init__()"] + self.init_lines
        lines = [
            f"class {name}(nn.Module):",
            f'    """The keraslike model "{model.name}" as a plain torch module (channels-last inputs)."""',
            "",
            "    def __init__(self):",
            *("        " + line for line in init),
            "",
            f"    def forward(self, {', '.join(parameters)}):",
            *("        " + line for line in self.forward_lines),
        ]
        return "\n".join(lines) + "\n", self.state

    def _outputs(self):
        model = self.model
        structure = model._outputs_struct if model is self.writer.top else None
        flat = [self.variables[id(t)] for t in model.outputs]
        if structure is None:
            return flat[0] if len(flat) == 1 else "(" + ", ".join(flat) + ",)"
        return _render_structure(structure, {id(t): v for t, v in zip(model.outputs, flat)})

    def _attribute(self, layer, translation):
        if id(layer) not in self.attributes:
            attribute = identifier(layer.name, self.taken_attributes)
            self.attributes[id(layer)] = attribute
            if translation is not None and translation.module is not None:
                self.init_lines.append(f"self.{attribute} = {translation.module}")
                for key, tensor in translation.state.items():
                    self.state[f"{attribute}.{key}"] = tensor
        return f"self.{self.attributes[id(layer)]}"

    def _node(self, node):
        operation = node.operation
        inputs = [self.variables[id(t)] for t in node.input_tensors]
        if getattr(operation, "_plan", None) is not None:
            expression = self._nested_model(operation, inputs)
        elif isinstance(operation, TorchFunction):
            expression = _torch_function_call(operation, node, self.variables)
        else:
            translator = translator_for(operation)
            if translator is None:
                raise Untranslatable(
                    f'Layer "{operation.name}" ({type(operation).__name__}) has no torch-source '
                    "translation (custom layers cannot be translated; rewrite it with built-in "
                    "layers, or port its call by hand)."
                )
            translation = translator(operation)
            module = self._attribute(operation, translation)
            self.writer.helpers.update(translation.helpers)
            self.writer.add_sources(operation, translation.sources)
            expression = translation.call(module, inputs, node)
        self._assign(node, expression)

    def _nested_model(self, model, inputs):
        name, state = self.writer.write_model(model)
        existing = self.attributes.get(id(model))
        if existing is None:
            attribute = identifier(model.name, self.taken_attributes)
            self.attributes[id(model)] = attribute
            self.init_lines.append(f"self.{attribute} = {name}()")
            for key, tensor in state.items():
                self.state[f"{attribute}.{key}"] = tensor
            existing = attribute
        return f"self.{existing}({', '.join(inputs)})"

    def _assign(self, node, expression):
        outputs = node.output_tensors
        names = [identifier(node.operation.name, self.taken_variables) for _ in outputs]
        for tensor, name in zip(outputs, names):
            self.variables[id(tensor)] = name
        comment = ", ".join(shape_comment(t) for t in outputs)
        if isinstance(expression, list):
            for name, part in zip(names, expression):
                self.forward_lines.append(f"{name} = {part}")
            self.forward_lines[-1] += f"  # {comment}"
        else:
            target = names[0] if len(names) == 1 else ", ".join(names)
            self.forward_lines.append(f"{target} = {expression}  # {comment}")


def _render_structure(structure, variables):
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k!r}: {_render_structure(v, variables)}" for k, v in structure.items()) + "}"
    if isinstance(structure, (list, tuple)):
        items = [_render_structure(v, variables) for v in structure]
        return ("[" + ", ".join(items) + "]") if isinstance(structure, list) else ("(" + ", ".join(items) + ",)")
    return variables[id(structure)]


def _torch_function_call(operation, node, variables):
    function = _function_source(operation)
    args = [_constant_or_variable(a, variables, operation) for a in node.call_args]
    kwargs = [f"{k}={_constant_or_variable(v, variables, operation)}" for k, v in node.call_kwargs.items()]
    return f"{function}({', '.join(args + kwargs)})"


def _function_source(operation):
    fn = operation.fn
    name = getattr(fn, "__name__", None)
    if name and getattr(operator, name, None) is fn:
        return f"operator.{name}"
    for prefix, namespace in (("torch", torch), ("F", torch.nn.functional), ("torch.Tensor", torch.Tensor)):
        if name and getattr(namespace, name, None) is fn:
            return f"{prefix}.{name}"
    raise Untranslatable(
        f'The op "{operation.name}" calls {fn!r}, which is neither a torch function nor a Python '
        "operator, so it cannot be written as torch source."
    )


def _constant_or_variable(value, variables, operation):
    if isinstance(value, KerasTensor):
        return variables[id(value)]
    if isinstance(value, (list, tuple)):
        items = [_constant_or_variable(v, variables, operation) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_constant_or_variable(v, variables, operation)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, float, str, slice, torch.dtype)) or value is Ellipsis:
        return repr(value)
    raise Untranslatable(
        f'The op "{operation.name}" has the argument {value!r}, which cannot be written as source.'
    )


