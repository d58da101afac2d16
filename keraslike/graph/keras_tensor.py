"""KerasTensor: the symbolic tensor that records a graph when layers and ops are called on it."""

import operator
import sys

import torch

from keraslike.backend.naming import uniquify
from keraslike.graph import nest

# The operation that records a torch function applied to KerasTensors (`TorchFunction`). Set by
# `graph/operation.py` when it is imported, which `keraslike.graph` always does first: an
# Operation needs KerasTensors, and KerasTensor needs only this one factory, so imports point one
# way (operation -> keras_tensor).
record_torch_function = None


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
        """Any torch function applied to a KerasTensor records a graph node instead of running.

        Inside a plain `torch.nn.Module` called on KerasTensors, the whole module call becomes
        one node instead (the module wrapped in a `TorchModuleWrapper` layer).
        """
        captured = _module_call_result()
        if captured is not None:
            return captured
        return record_torch_function(func)(*args, **(kwargs or {}))

    def __getattr__(self, name):
        # Tensor methods (`x.flatten(1)`, `x.view(...)`) inside a plain torch module called on
        # KerasTensors: part of the module's wrapped call (see `__torch_function__`).
        if not name.startswith("_") and hasattr(torch.Tensor, name):
            captured = _module_call_result()
            if captured is not None:
                attr = getattr(torch.Tensor, name)
                return (lambda *args, **kwargs: captured) if callable(attr) else captured
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


# Each Python operator records the torch function that computes it; `TorchFunction` knows it as
# the `keras.ops` function Keras's KerasTensor records (`torch.ne` is `not_equal`).
def _binary(fn, reflected=False):
    def method(self, other):
        if reflected:
            return record_torch_function(fn)(other, self)
        return record_torch_function(fn)(self, other)

    method.__name__ = fn.__name__
    return method


def _unary(fn):
    def method(self):
        return record_torch_function(fn)(self)

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
    ("ne", torch.not_equal),  # as Keras: `x != 0` is an op, `x == y` identity
]:
    setattr(KerasTensor, f"__{_name}__", _binary(_fn))
for _name, _fn in [("neg", torch.negative), ("abs", torch.abs), ("invert", torch.logical_not)]:
    setattr(KerasTensor, f"__{_name}__", _unary(_fn))
KerasTensor.__pos__ = lambda self: self
KerasTensor.__round__ = lambda self, ndigits=None: record_torch_function(torch.round)(
    self, decimals=ndigits or 0)
KerasTensor.__getitem__ = _binary(operator.getitem)
# Equality stays identity-based (KerasTensors are dict keys and set members); use keras.ops.equal.
KerasTensor.__hash__ = object.__hash__


# A plain torch module called on KerasTensors (`torch.nn.Linear(4, 2)(inputs)`) cannot run: its
# forward would record its ops with the module's parameters as constants, which no model would
# hold or train. Instead the first torch function (or tensor method) its forward applies to a
# KerasTensor wraps the whole module call (`layers.TorchModuleWrapper`, registered here by the
# layers package) and returns the wrapper's symbolic output; every later op of that same call
# returns that output unchanged, so the module's `forward` returns it. Found by looking up the
# stack for the outermost `nn.Module` call that is not a keraslike layer (only at graph
# construction, never when a model runs).
_MODULE_WRAPPER = []
_CALL_IMPL_CODE = torch.nn.Module._call_impl.__code__
_CAPTURED = []  # [(frame of the module call, its symbolic result)], pruned when frames return


def register_module_wrapper(wrap):
    """Sets `wrap(module, args, kwargs)`, which wraps a torch module called on KerasTensors."""
    _MODULE_WRAPPER[:] = [wrap]


def _module_call_result():
    if not _MODULE_WRAPPER:
        return None
    frame, outermost, on_stack = sys._getframe(2), None, set()
    while frame is not None:
        on_stack.add(id(frame))
        if frame.f_code is _CALL_IMPL_CODE:
            module = frame.f_locals.get("self")
            if "_inbound_nodes" in getattr(module, "__dict__", {}):
                break  # a keraslike layer's own call (on meta tensors): not a plain module's
            outermost = frame
        frame = frame.f_back
    _CAPTURED[:] = [(f, r) for f, r in _CAPTURED if id(f) in on_stack]
    if outermost is None:
        return None
    for f, result in _CAPTURED:
        if f is outermost:
            return result
    local = outermost.f_locals
    result = _MODULE_WRAPPER[0](local["self"], local.get("args", ()), local.get("kwargs") or {})
    _CAPTURED.append((outermost, result))
    return result


def symbolic_tensors(structure):
    """The KerasTensors among the leaves of a nested structure (list, tuple, dict), in `nest`
    order: the one scan of call arguments for symbolic tensors (nodes, layers, ops, inference)."""
    return [x for x in nest.flatten(structure) if isinstance(x, KerasTensor)]


def any_symbolic(args, kwargs=None):
    """Whether any leaf of `args` (or `kwargs`) is a KerasTensor; cheap for plain tensors."""
    for x in args:
        if isinstance(x, KerasTensor):
            return True
        if isinstance(x, (list, tuple, dict)) and symbolic_tensors(x):
            return True
    return bool(kwargs) and bool(symbolic_tensors(kwargs))


def is_keras_tensor(x):
    """Returns whether `x` is a symbolic KerasTensor."""
    return isinstance(x, KerasTensor)
