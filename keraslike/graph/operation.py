"""Symbolic calls: how a layer or an op called on KerasTensors becomes a graph node."""

from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.graph import keras_tensor
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


class TorchFunction(Operation):
    """A graph node that applies a torch function (or any function of tensors).

    This is what Python operators (`x + y`, `x[:, 0]`) and `torch.*` calls on KerasTensors record.

    Args:
        fn: The function to apply.
        name: The node's name; defaults to the function's name.
    """

    def __init__(self, fn, name=None):
        base = getattr(fn, "__name__", None) or type(fn).__name__
        super().__init__(name=name or uniquify(to_snake_case(base.strip("_"))))
        self.fn = fn

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def runtime_callable(self):
        return self.fn


keras_tensor.record_torch_function = TorchFunction
