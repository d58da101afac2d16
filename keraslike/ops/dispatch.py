"""The dispatch every `keras.ops` function goes through: run on tensors, or record a graph node.

An op is a plain function of torch tensors (and Python or NumPy values). Decorated with
`@keras_op`, it runs directly when no argument is symbolic (a few `isinstance` checks, nothing
else: no host sync, nothing `torch.compile` has to break on), and records a graph node when any
argument (nested in lists, tuples or dicts too) is a `KerasTensor`. The node applies the same
function when the model runs; its output shapes come from running the function on meta tensors.
"""

import functools

import torch

from keraslike.backend.naming import uniquify
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.operation import TorchFunction
from keraslike.graph.shape_inference import infer_output_spec


# Argument types that can never hold a symbolic tensor: skipped with one set lookup.
_PLAIN = frozenset({torch.Tensor, torch.nn.Parameter, int, float, bool, str, type(None)})


def _holds_symbolic(value):
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        for item in value:
            if _holds_symbolic(item):
                return True
    elif isinstance(value, dict):
        for item in value.values():
            if _holds_symbolic(item):
                return True
    return False


def is_symbolic_call(args, kwargs=None):
    """Returns whether any argument (at any nesting depth) is a symbolic `KerasTensor`."""
    for value in args:
        if _holds_symbolic(value):
            return True
    if kwargs:
        for value in kwargs.values():
            if _holds_symbolic(value):
                return True
    return False


def _meta_constant(value):
    if isinstance(value, torch.Tensor) and value.device.type != "meta":
        return value.to("meta")
    return value


class OpNode(TorchFunction):
    """The graph node of one `keras.ops` call.

    Shape inference runs the op on meta tensors; tensor constants among the arguments (a weight
    matrix, indices) are moved to meta for that run too, so they can meet the symbolic inputs.

    Args:
        fn: The op's eager implementation.
        op_name: The op's name in `keraslike.ops` (`"sum"`); the node's own name is made unique.
    """

    def __init__(self, fn, op_name):
        super().__init__(fn, name=uniquify(op_name), keras_op=op_name)
        self.op_name = op_name

    def get_config(self):
        return {"name": self.name, "op": self.op_name}

    def compute_output_spec(self, *args, **kwargs):
        fn = self.fn

        def on_meta(*call_args, **call_kwargs):
            call_args, call_kwargs = nest.map_structure(_meta_constant, (call_args, call_kwargs))
            return fn(*call_args, **call_kwargs)

        return infer_output_spec(on_meta, args, kwargs, description=f'op "{self.name}"')


def symbolic_call(fn, name, args, kwargs):
    """Records `fn(*args, **kwargs)` as a graph node named after `name`; returns its outputs."""
    return OpNode(fn, name)(*args, **kwargs)


def keras_op(fn=None, *, name=None):
    """Makes `fn` a Keras op: eager on tensors, a graph node on symbolic tensors.

    Usable bare (`@keras_op`) or with a node name (`@keras_op(name="sum")`); the name defaults to
    the function's name. The undecorated function stays available as `op.eager`.
    """

    def decorate(impl):
        op_name = name or impl.__name__.strip("_")

        @functools.wraps(impl)
        def op(*args, **kwargs):
            for value in args:
                if type(value) not in _PLAIN and _holds_symbolic(value):
                    return symbolic_call(impl, op_name, args, kwargs)
            if kwargs:
                for value in kwargs.values():
                    if type(value) not in _PLAIN and _holds_symbolic(value):
                        return symbolic_call(impl, op_name, args, kwargs)
            return impl(*args, **kwargs)

        op.eager = impl
        return op

    if fn is not None:
        return decorate(fn)
    return decorate
