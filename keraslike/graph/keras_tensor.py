"""KerasTensor: the symbolic tensor that records a graph when layers and ops are called on it."""

import operator

import torch

from keraslike.backend.naming import uniquify


class KerasTensor:
    """A symbolic tensor: a shape and a dtype, and the node that produced it.

    `keras.Input(...)` returns one; calling a layer, a model, a `keras.ops` function, a Python
    operator (`+ - * / @`, indexing) or a `torch` function on one records a graph node and returns
    new KerasTensors. `shape` is a tuple with `None` for unknown dimensions; `dtype` is a string.

    Attributes:
        shape: Tuple of ints or `None`.
        dtype: String dtype, such as `"float32"`.
        name: Unique name (`keras_tensor`, `keras_tensor_1`, ... or the `Input` name).
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(shape)
        self.dtype = str(dtype)
        self.name = name if name is not None else uniquify("keras_tensor")
        self._keras_history = None  # (operation, node_index, tensor_index)
        self._keras_mask = None  # a KerasTensor holding the mask, when a layer produced one

    @property
    def ndim(self):
        """Number of dimensions."""
        return len(self.shape)

    @property
    def node(self):
        """The graph node that produced this tensor (`None` for a free-standing tensor)."""
        if self._keras_history is None:
            return None
        operation, node_index, _ = self._keras_history
        return operation._inbound_nodes[node_index]

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, name={self.name}>"

    def __bool__(self):
        raise TypeError(
            "A symbolic KerasTensor cannot be used as a Python boolean: its value is only known "
            f"when the model runs. Received: {self!r}. Use `keras.ops.where` or `keras.ops.cond`."
        )

    def __len__(self):
        raise TypeError(
            f"A symbolic KerasTensor has no length. Use `.shape[0]` instead. Received: {self!r}"
        )

    def __iter__(self):
        raise TypeError(f"A symbolic KerasTensor is not iterable. Received: {self!r}")

    def numpy(self):
        raise ValueError(
            f"A symbolic KerasTensor has no value: it only describes the inputs of a model under "
            f"construction. Received: {self!r}"
        )

    __array_priority__ = 1000  # numpy defers `array + kt` to us

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """Any torch function applied to a KerasTensor records a graph node instead of running."""
        from keraslike.graph.operation import TorchFunction

        return TorchFunction(func)(*args, **(kwargs or {}))


def _binary(fn, reflected=False):
    def method(self, other):
        from keraslike.graph.operation import TorchFunction

        if reflected:
            return TorchFunction(fn)(other, self)
        return TorchFunction(fn)(self, other)

    method.__name__ = fn.__name__
    return method


def _unary(fn):
    def method(self):
        from keraslike.graph.operation import TorchFunction

        return TorchFunction(fn)(self)

    method.__name__ = fn.__name__
    return method


for _name, _fn in [
    ("add", torch.add),
    ("sub", torch.subtract),
    ("mul", torch.multiply),
    ("truediv", torch.true_divide),
    ("floordiv", torch.floor_divide),
    ("mod", torch.remainder),
    ("pow", torch.pow),
    ("matmul", torch.matmul),
    ("and", torch.logical_and),
    ("or", torch.logical_or),
    ("xor", torch.logical_xor),
]:
    setattr(KerasTensor, f"__{_name}__", _binary(_fn))
    setattr(KerasTensor, f"__r{_name}__", _binary(_fn, reflected=True))
for _name, _fn in [
    ("lt", torch.less),
    ("le", torch.less_equal),
    ("gt", torch.greater),
    ("ge", torch.greater_equal),
]:
    setattr(KerasTensor, f"__{_name}__", _binary(_fn))
for _name, _fn in [("neg", torch.negative), ("abs", torch.abs), ("invert", torch.logical_not)]:
    setattr(KerasTensor, f"__{_name}__", _unary(_fn))
KerasTensor.__pos__ = lambda self: self
KerasTensor.__getitem__ = _binary(operator.getitem)
# Equality stays identity-based (KerasTensors are dict keys and set members); use keras.ops.equal.
KerasTensor.__hash__ = object.__hash__


def is_keras_tensor(x):
    """Returns whether `x` is a symbolic KerasTensor."""
    return isinstance(x, KerasTensor)
