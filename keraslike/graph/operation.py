"""Symbolic calls: how a layer or an op called on KerasTensors becomes a graph node."""

import operator

import torch

from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.graph import keras_tensor
from keraslike.graph.keras_op_classes import KERAS_OP_CLASSES
from keraslike.graph.keras_tensor import any_symbolic
from keraslike.graph.node import Node
from keraslike.graph.shape_inference import infer_output_spec

__all__ = ["Operation", "TorchFunction", "any_symbolic"]


class Operation:
    """A computation that can be a graph node: the protocol of symbolic calls.

    `keras.ops` functions and torch functions on KerasTensors are Operations, and so is every
    `Layer`. Calling one on torch tensors runs `call`; calling it on KerasTensors runs
    `symbolic_call`, which records a `Node` and returns KerasTensors from
    `compute_output_spec`. A compiled graph calls `runtime_callable` for its nodes (and
    `module_callable` while torch's global module hooks are set).

    Args:
        name: The node's name; defaults to a unique snake-case name of the class.
    """

    def __init__(self, name=None):
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self._inbound_nodes = []

    def __call__(self, *args, **kwargs):
        if any_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def call(self, *args, **kwargs):
        """Computes the result on real tensors."""
        raise NotImplementedError

    def symbolic_call(self, *args, **kwargs):
        """Records a node for this call and returns its symbolic outputs."""
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        """Returns KerasTensors describing the outputs, by running `call` on meta tensors."""
        return infer_output_spec(self.call, args, kwargs, description=f'op "{self.name}"')

    @property
    def runtime_callable(self):
        """The function a compiled graph calls for this operation's nodes."""
        return self.call

    @property
    def module_callable(self):
        """What a compiled graph calls while torch's global module hooks are set.

        The same as `runtime_callable` for ops; layers return `nn.Module.__call__` so that the
        hooks see the call.
        """
        return self.runtime_callable

    def get_config(self):
        """Returns the op's config (its name)."""
        return {"name": self.name}

    def __repr__(self):
        return f"<Operation name={self.name}>"


_REDUCE = {"dim": "axis", "keepdim": "keepdims"}
# torch functions that compute a `keras.ops` function with the same positional arguments (keyword
# names renamed): a node of one shows and saves as Keras's op (`torch.ne(x, 0)` is `not_equal`).
_TORCH_AS_KERAS = {
    **{fn: (name, {}) for fn, name in [
        (torch.add, "add"), (torch.sub, "subtract"), (torch.subtract, "subtract"),
        (torch.mul, "multiply"), (torch.multiply, "multiply"), (torch.div, "true_divide"),
        (torch.true_divide, "true_divide"), (torch.floor_divide, "floor_divide"),
        (torch.remainder, "mod"), (torch.pow, "power"), (torch.matmul, "matmul"),
        (torch.maximum, "maximum"), (torch.minimum, "minimum"), (torch.where, "where"),
        (torch.logical_and, "logical_and"), (torch.logical_or, "logical_or"),
        (torch.logical_xor, "logical_xor"), (torch.logical_not, "logical_not"),
        (torch.lt, "less"), (torch.less, "less"), (torch.le, "less_equal"),
        (torch.less_equal, "less_equal"), (torch.gt, "greater"), (torch.greater, "greater"),
        (torch.ge, "greater_equal"), (torch.greater_equal, "greater_equal"),
        (torch.ne, "not_equal"), (torch.not_equal, "not_equal"), (torch.eq, "equal"),
        (torch.abs, "absolute"), (torch.neg, "negative"), (torch.negative, "negative"),
        (torch.exp, "exp"), (torch.log, "log"), (torch.sqrt, "sqrt"), (torch.square, "square"),
        (torch.tanh, "tanh"), (torch.sigmoid, "sigmoid"), (torch.relu, "relu"),
        (torch.sin, "sin"), (torch.cos, "cos"), (torch.floor, "floor"), (torch.ceil, "ceil"),
        (torch.sign, "sign"), (torch.round, "round"), (torch.ones_like, "ones_like"),
        (torch.zeros_like, "zeros_like"),
    ]},
    **{fn: (name, _REDUCE) for fn, name in [
        (torch.any, "any"), (torch.all, "all"), (torch.sum, "sum"), (torch.mean, "mean"),
        (torch.amax, "max"), (torch.amin, "min"), (torch.Tensor.any, "any"),
        (torch.Tensor.all, "all"), (torch.Tensor.sum, "sum"), (torch.Tensor.mean, "mean"),
        (torch.cat, "concatenate"), (torch.concatenate, "concatenate"), (torch.stack, "stack"),
        (torch.unsqueeze, "expand_dims"), (torch.Tensor.unsqueeze, "expand_dims"),
        (torch.squeeze, "squeeze"),
    ]},
    torch.reshape: ("reshape", {"shape": "newshape"}),
    operator.getitem: ("get_item", {}),  # `x[:, 1:]`
}


class TorchFunction(Operation):
    """A graph node that applies a torch function (or any function of tensors).

    This is what Python operators (`x + y`, `x[:, 0]`) and `torch.*` calls on KerasTensors record.

    Args:
        fn: The function to apply.
        name: The node's name; defaults to the function's name (or `keras_op`).
        keras_op: The `keras.ops` function name `fn` computes with the same arguments, if any.
    """

    # The `keras.ops` function this node computes, when Keras 3 has it as an op class (`"add"`
    # for `x + y`): the node then shows and saves as Keras's (`Add`), so Keras loads the model.
    keras_op = None
    keras_renames = None  # {torch keyword: Keras keyword} for `keras_op`'s arguments

    def __init__(self, fn, name=None, keras_op=None):
        if keras_op is None:
            keras_op, self.keras_renames = _torch_as_keras(fn)
        base = keras_op or getattr(fn, "__name__", None) or type(fn).__name__
        super().__init__(name=name or uniquify(to_snake_case(base.strip("_"))))
        self.fn = fn
        if keras_op in KERAS_OP_CLASSES:
            self.keras_op = keras_op

    @property
    def _display_class_name(self):
        # What `summary()` shows: Keras's op class (`NotEqual`), as Keras's summary does.
        entry = KERAS_OP_CLASSES.get(self.keras_op)
        return entry[1] if entry else None

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def runtime_callable(self):
        return self.fn


def _torch_as_keras(fn):
    try:
        return _TORCH_AS_KERAS.get(fn, (None, None))
    except TypeError:  # an unhashable callable
        return None, None


keras_tensor.record_torch_function = TorchFunction
