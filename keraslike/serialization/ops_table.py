"""Op nodes in configs: the functions a graph may apply, named and found again by name.

A node that computes a `keras.ops` function Keras 3 has an op class for (`keras.ops.mean(x,
axis=1)`, `x + y`, `x[:, 0]`, `x != 0`) is saved as Keras saves it, so Keras loads the model:

    {"module": "keras.src.ops.numpy", "class_name": "Mean", "config": {"name": "mean", "axis": 1},
     "registered_name": "Mean", "inbound_nodes": [{"args": [<x>], "kwargs": {}}]}

(`keras_op_form`; the table of Keras's op classes is `graph/keras_op_classes.py`). Any other
`TorchFunction` node (a `torch.*` call, a keraslike-only op, a call Keras's op class cannot
express) is saved keraslike's way:

    {"module": "keraslike.ops", "class_name": "TorchFunction",
     "config": {"name": "add", "function": "torch.add"}, "registered_name": "keraslike>TorchFunction"}

`function` names an entry of a fixed table built from namespaces keraslike already imported: the
torch functions that dispatch through `__torch_function__` (`torch.*`, `torch.Tensor.*`,
`torch.nn.functional.*`, ...), `operator`'s arithmetic and indexing, and the `keraslike.ops`
functions. A registered custom function is saved under `registered_function`. Keras 3's own op
nodes (`keras.src.ops.numpy.Add`, `GetItem`, ...) are read by mapping the class to the
`keraslike.ops` function of the same snake-case name. Nothing is imported or evaluated by name.
"""

import operator

import torch

from keraslike import ops
from keraslike.backend.naming import to_snake_case
from keraslike.graph.keras_op_classes import KERAS_OP_CLASSES
from keraslike.graph.operation import TorchFunction
from keraslike.serialization import registry
from keraslike.serialization.errors import UnknownObjectError

_OPERATOR_NAMES = (
    "getitem", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg",
    "pos", "abs", "invert", "and_", "or_", "xor", "lt", "le", "gt", "ge", "eq", "ne",
)
_OP_FAMILIES = ("image", "linalg", "nn", "numpy", "core", "math")
_TABLE = {}
_REVERSE = {}


def _add(name, fn):
    if name not in _TABLE:
        _TABLE[name] = fn
    _REVERSE.setdefault(id(fn), name)


def function_table():
    """Dict name -> function of every function an op node may name (built once)."""
    if _TABLE:
        return _TABLE
    for name in _OPERATOR_NAMES:
        _add(f"operator.{name}", getattr(operator, name))
    _add("keraslike.saving.getitem", _getitem_key)
    for name in getattr(ops, "__all__", dir(ops)):
        op = getattr(ops, name, None)
        impl = getattr(op, "eager", None)
        if callable(impl):
            _add(f"keraslike.ops.{name}", impl)
    for family in _OP_FAMILIES:  # `keras.ops.image.resize`: only in its family's namespace
        namespace = getattr(ops, family, None)
        for name in dir(namespace) if namespace is not None else ():
            impl = getattr(getattr(namespace, name, None), "eager", None)
            if callable(impl):
                _add(f"keraslike.ops.{family}.{name}", impl)
    for namespace, functions in torch.overrides.get_overridable_functions().items():
        if namespace is torch.Tensor:
            prefix = "torch.Tensor"
        elif str(getattr(namespace, "__name__", "")).startswith("torch"):
            prefix = namespace.__name__
        else:
            continue
        for fn in functions:
            name = getattr(fn, "__name__", None)
            if isinstance(name, str):
                _add(f"{prefix}.{name}", fn)
    return _TABLE


def function_name(fn):
    """The table name of `fn`, or `None` when it is not in the table."""
    function_table()
    return _REVERSE.get(id(fn))


def serialize_op(op):
    """Returns the config of a `TorchFunction` node (see the module docstring)."""
    fn = op.fn
    config = {"name": op.name}
    if isinstance(fn, _KerasOp):
        config["arguments"] = fn.params
        fn = fn.fn
    name = function_name(fn)
    if name is not None:
        config["function"] = name
    elif registry.is_registered(fn):
        config["registered_function"] = registry.get_registered_name(fn)
    else:
        raise ValueError(
            f"Cannot save the op node {op.name!r}: it applies {fn!r}, which is neither a torch "
            "function, a `keras.ops` function, nor a registered function. Register it with "
            "`@keras.saving.register_keras_serializable()`, or wrap it in a custom layer."
        )
    return {
        "module": "keraslike.ops",
        "class_name": "TorchFunction",
        "config": config,
        "registered_name": "keraslike>TorchFunction",
    }


def _plain(value):
    """Whether `value` is JSON data a Keras op constructor can take (no tensors, no dtypes)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def keras_op_form(op, args, kwargs):
    """A node's call as Keras 3 writes it: `(class config, call args)`, or `None`.

    `op` is a `TorchFunction` node whose `keras_op` names a Keras op class; `args`/`kwargs` are
    the node's call arguments. The call is bound to the `keras.ops` function's parameters; those
    the class's constructor takes go to the config (they must be plain JSON values), the rest are
    the call's arguments in the class's `call` order. `None` when the call does not fit (a
    parameter Keras's function does not have, a symbolic constructor argument, a gap in the call
    arguments): the node is then saved keraslike's way.
    """
    entry = KERAS_OP_CLASSES.get(getattr(op, "keras_op", None))
    if entry is None:
        return None
    module, class_name, params, init_params, call_params, defaults = entry
    fn = op.fn
    if isinstance(fn, _KerasOp):  # read from a Keras config: its constructor arguments
        args, kwargs = fn.arguments(tuple(args), kwargs)
    renames = getattr(op, "keras_renames", None) or {}
    rest = ()
    if params and params[-1].startswith("*"):  # `einsum(subscripts, *operands)`
        params, call_params = params[:-1], call_params[:-1]
        args, rest = args[:len(params)], tuple(args[len(params):])
    if len(args) > len(params):
        return None
    bound = dict(zip(params, args))
    for key, value in kwargs.items():
        key = renames.get(key, key)
        if key in bound or key not in params:
            return None
        bound[key] = value
    config = {}
    for key in init_params:  # Keras's function passes each one: its config lists them all
        if key in bound or key in defaults:
            value = bound.pop(key) if key in bound else defaults[key]
            if isinstance(value, torch.dtype):  # `dtype=torch.bool` is Keras's "bool"
                value = str(value).removeprefix("torch.")
            if not _plain(value):
                return None
            config[key] = value
    call_args = []
    for key in call_params:
        if key not in bound:
            break
        call_args.append(bound.pop(key))
    if bound or (rest and len(call_args) != len(call_params)):  # an argument after a missing one
        return None
    call_args.extend(rest)
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": class_name}, call_args


def is_op_config(config):
    """Whether a serialized dict describes an op node (keraslike's or Keras 3's)."""
    module = str(config.get("module") or "")
    return config.get("class_name") == "TorchFunction" and module.startswith("keraslike") or (
        module.startswith("keras.src.ops")
    )


def _getitem_key(x, key):
    # Keras writes a tuple index as a JSON list; indexing with a list would mean fancy indexing.
    return operator.getitem(x, tuple(key) if isinstance(key, list) else key)


class _KerasOp:
    """A Keras 3 op node read from a config: the keraslike function plus the op's own arguments."""

    def __init__(self, fn, params, order=()):
        self.fn = fn
        self.params = params
        self.__name__ = getattr(fn, "__name__", "op")
        # `einsum(subscripts, *operands)`: the constructor's `subscripts` go before the call's
        # tensors, positionally (the function's parameter order).
        self._leading = None
        if order and order[-1].startswith("*"):
            self._leading = tuple(order[:-1])

    def arguments(self, args, kwargs):
        """The `(args, kwargs)` the keraslike function gets for a node called with these."""
        if self._leading is None:
            return args, {**self.params, **kwargs}
        call_args = iter(args)
        leading = [self.params[p] if p in self.params else next(call_args) for p in self._leading]
        return (*leading, *call_args), kwargs

    def __call__(self, *args, **kwargs):
        args, kwargs = self.arguments(args, kwargs)
        return self.fn(*args, **kwargs)


def deserialize_op(config, custom_objects=None):
    """Returns the `TorchFunction` an op config names."""
    inner = dict(config.get("config") or {})
    name = inner.pop("name", None)
    if config.get("class_name") == "TorchFunction":
        if "function" in inner:
            fn = function_table().get(inner["function"])
            if fn is None:
                raise UnknownObjectError(
                    f"Op node {name!r} applies {inner['function']!r}, which is not a function "
                    "keraslike knows (torch, operator and keras.ops functions only)."
                )
        else:
            registered = inner.get("registered_function")
            custom = registry.current_custom_objects(custom_objects)
            fn = registry.get_registered_object(str(registered), custom)
            if fn is None:
                raise UnknownObjectError(
                    f"Op node {name!r} applies the custom function {registered!r}, which is not "
                    "registered. Register it with `@keras.saving.register_keras_serializable()` "
                    "or pass it in `custom_objects`."
                )
        if inner.get("arguments"):
            fn = _KerasOp(fn, dict(inner["arguments"]))
        return TorchFunction(fn, name=name)
    class_name = config.get("class_name")
    if class_name == "GetItem":
        return TorchFunction(_getitem_key, name=name, keras_op="get_item")
    op_name = to_snake_case(class_name)
    family = str(config.get("module") or "").rsplit(".", 1)[-1]
    fn = function_table().get(f"keraslike.ops.{family}.{op_name}") or function_table().get(
        f"keraslike.ops.{op_name}")
    if fn is None:
        raise UnknownObjectError(
            f"Keras op {class_name!r} (node {name!r}, module {config.get('module')!r}) has no "
            "keraslike equivalent in `keraslike.ops`."
        )
    entry = KERAS_OP_CLASSES.get(op_name)
    if inner or (entry and entry[2] and entry[2][-1].startswith("*")):
        fn = _KerasOp(fn, inner, entry[2] if entry else ())
    return TorchFunction(fn, name=name, keras_op=op_name)
