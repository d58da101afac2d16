"""Symbolic calls: how a layer or an op called on KerasTensors becomes a graph node."""

from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.node import Node
from keraslike.graph.shape_inference import infer_output_spec


def any_symbolic(args, kwargs=None):
    """Returns whether any leaf of `args` or `kwargs` is a KerasTensor."""
    for x in args:
        if isinstance(x, KerasTensor):
            return True
        if isinstance(x, (list, tuple, dict)) and any(
            isinstance(leaf, KerasTensor) for leaf in nest.flatten(x)
        ):
            return True
    if kwargs:
        return any(isinstance(leaf, KerasTensor) for leaf in nest.flatten(kwargs))
    return False


class Operation:
    """A stateless computation that can be a graph node (`keras.ops` functions are Operations).

    Calling it on torch tensors runs `call`; calling it on KerasTensors records a node and
    returns KerasTensors whose shapes come from running `call` on meta tensors.

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
