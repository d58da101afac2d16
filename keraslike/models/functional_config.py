"""Configs of functional and Sequential models, in Keras 3's exact schema, and models from them.

A functional config lists every operation of the graph (InputLayers first, in `model.layers`
order) as a serialized object plus its `name` and `inbound_nodes`; each node is the call's
`args`/`kwargs` with `__keras_tensor__` markers whose `keras_history` is `[layer name, node
index, tensor index]`. Node indices count only the calls that belong to this model, as Keras
counts them, including Keras's quirk that `input_layers`/`output_layers` entries pointing at a
nested functional model count its calls from 1 (Keras 2 gave a model a node of its own).
"""

import collections
import inspect

from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.operation import TorchFunction
from keraslike.layers.input_layer import InputLayer
from keraslike.layers.layer import Layer
from keraslike.saving import serialization_lib
from keraslike.serialization.ops_table import keras_op_form
from keraslike.serialization.registry import CustomObjectScope
from keraslike.saving.serialization_lib import (
    deserialize_value,
    is_functional,
    serialize_keras_object,
    strip_shared_ids,
)

_CALL_PARAMS = {}


def _call_parameters(op):
    """The parameters of `op.call` (cached per class), or `None` when it takes `**kwargs`."""
    cls = type(op)
    if cls not in _CALL_PARAMS:
        try:
            params = inspect.signature(cls.call).parameters
        except (TypeError, ValueError, AttributeError):
            params = None
        if params is not None and any(p.kind == p.VAR_KEYWORD for p in params.values()):
            params = None
        _CALL_PARAMS[cls] = params
    return _CALL_PARAMS[cls]


def _holds_tensor(value):
    return any(isinstance(x, KerasTensor) for x in nest.flatten(value))


def _node_kwargs(op, node):
    """The call kwargs as Keras records them: a non-None `training` default, `mask` for one input."""
    kwargs = dict(node.call_kwargs)
    if not isinstance(op, Layer) or isinstance(op, InputLayer):
        return kwargs
    params = _call_parameters(op)
    if not params:
        return kwargs
    training = params.get("training")
    if training is not None and "training" not in kwargs:
        declared = getattr(type(op), "_keras_call_training_default", None)
        if declared is not None:  # a fact the layer class declares (Keras's call default)
            kwargs["training"] = declared
        elif training.default not in (None, inspect.Parameter.empty):
            kwargs["training"] = training.default
    if "mask" in params and "mask" not in kwargs:
        tensor_args = [a for a in node.call_args if _holds_tensor(a)]
        tensor_args += [v for v in node.call_kwargs.values() if _holds_tensor(v)]
        if len(tensor_args) == 1 and isinstance(tensor_args[0], KerasTensor):
            kwargs["mask"] = None
    return kwargs


def _serialize_node(node, own_nodes, call=None):
    """A node's `{"args", "kwargs"}`; `call` replaces its recorded `(args, kwargs)`."""
    if not node.input_tensors:
        return None

    def tensor(x):
        if not isinstance(x, KerasTensor):
            return x
        operation, node_index, tensor_index = x._keras_history
        irrelevant = sum(1 for n in operation._inbound_nodes[:node_index] if n not in own_nodes)
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": tuple(x.shape),
                "dtype": x.dtype,
                "keras_history": [operation.name, node_index - irrelevant, tensor_index],
            },
        }

    # keraslike's op nodes mark tuples (`__tuple__`); Keras's write them as lists.
    is_op = not isinstance(node.operation, Layer) and call is None
    call_args, call_kwargs = call or (node.call_args, _node_kwargs(node.operation, node))
    args = [_map_args(tensor, a, keep_tuples=is_op) for a in call_args]
    kwargs = _map_args(tensor, call_kwargs, keep_tuples=is_op)
    return {"args": serialize_keras_object(args), "kwargs": serialize_keras_object(kwargs)}


def _map_args(fn, value, keep_tuples):
    """Maps KerasTensors; inside op nodes tuples are marked (`__tuple__`), Keras writes lists."""
    if isinstance(value, KerasTensor):
        return fn(value)
    if keep_tuples and type(value) is tuple:
        items = [_map_args(fn, v, keep_tuples) for v in value]
        return {"class_name": "__tuple__", "config": {"value": items}}
    if isinstance(value, (list, tuple)):
        items = [_map_args(fn, v, keep_tuples) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {k: _map_args(fn, v, keep_tuples) for k, v in value.items()}
    return value


def functional_config(model):
    """Returns the config of a functional `model`, exactly in Keras 3's schema.

    Args:
        model: A `keras.Model` built from a graph.

    Returns:
        `{"name", "trainable", "layers": [...], "input_layers", "output_layers"}`.
    """
    own_nodes = set(model._graph.nodes)
    reindex = {}
    for op in model._operations:
        kept = 1 if is_functional(op) else 0
        for i, node in enumerate(op._inbound_nodes):
            if node in own_nodes:
                reindex[(id(op), i)] = kept
                kept += 1
    layers = []
    for op in model._operations:
        op_nodes = [node for node in op._inbound_nodes if node in own_nodes]
        keras_form = None
        if isinstance(op, TorchFunction) and len(op_nodes) == 1:
            keras_form = keras_op_form(op, op_nodes[0].call_args, op_nodes[0].call_kwargs)
        if keras_form is not None:  # an op node Keras has a class for: written as Keras does
            layer_config, call_args = keras_form
            layer_config["config"] = {"name": op.name, **serialize_keras_object(layer_config["config"])}
            nodes = [_serialize_node(op_nodes[0], own_nodes, call=(call_args, {}))]
        else:
            nodes = [data for data in (_serialize_node(node, own_nodes) for node in op_nodes)
                     if data is not None]
            layer_config = serialize_keras_object(op)
        layer_config["name"] = op.name
        layer_config["inbound_nodes"] = nodes
        layers.append(layer_config)

    def tensor_config(x):
        operation, node_index, tensor_index = x._keras_history
        return [operation.name, reindex[(id(operation), node_index)], tensor_index]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": nest.map_structure(tensor_config, model._inputs_struct),
        "output_layers": nest.map_structure(tensor_config, model._outputs_struct),
    }


class _NotReady(Exception):
    """A node's input comes from a call that has not been recreated yet."""


def _resolve_tensor(config, created):
    name, node_index, tensor_index = config["keras_history"]
    entry = created.get(name)
    if entry is None:
        raise ValueError(f"Invalid functional config: a node reads from unknown layer {name!r}.")
    layer, base = entry
    # Node indices count this model's calls only: a layer shared with a nested model already
    # has that model's calls, which come first in `_inbound_nodes` (`base` of them).
    if len(layer._inbound_nodes) <= base + node_index:
        raise _NotReady(name)
    return layer._inbound_nodes[base + node_index].output_tensors[tensor_index]


def _deserialize_args(value, created):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return _resolve_tensor(value["config"], created)
        if "class_name" in value and "config" in value:
            return deserialize_value(value)
        return {k: _deserialize_args(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [_deserialize_args(v, created) for v in value]
    return value


def _legacy_node_args(node_data, created):
    """Keras 2 / tf.keras node format: a list of `[layer, node, tensor(, kwargs)]`."""
    tensors, kwargs = [], {}
    for entry in node_data:
        tensors.append(_resolve_tensor({"keras_history": entry[:3]}, created))
        if len(entry) > 3 and isinstance(entry[3], dict):
            kwargs = entry[3]
    return [tensors[0] if len(tensors) == 1 else tensors], kwargs


def _call_node(layer, node_data, created):
    if isinstance(node_data, list):
        args, kwargs = _legacy_node_args(node_data, created)
    else:
        args = _deserialize_args(node_data.get("args", []), created)
        kwargs = _deserialize_args(node_data.get("kwargs", {}), created)
    if isinstance(layer, Layer):
        # Keras records `training=False` (a call default) in nodes, and a model call's training
        # flag overrides it when the model runs; here an explicit node flag would win, so
        # the recorded default is dropped and the layer follows the model's mode again.
        if kwargs.get("training") is False:
            kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        params = _call_parameters(layer)
        if params is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in params}
    layer(*args, **kwargs)


def _is_leaf(value):
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) for v in value[1:])
    )


def _functional_from_config(cls, config, custom_objects=None):
    """Rebuilds a functional model from `functional_config` (or Keras 3's `get_config()`).

    Args:
        cls: The model class to instantiate (`keras.Model` or a subclass with its constructor).
        config: The config dict.
        custom_objects: Optional dict name -> custom class or function.

    Returns:
        A new model of class `cls`, with fresh weights.

    Raises:
        ValueError: When the config's graph cannot be rebuilt (unknown layers, cycles).
        TypeError: (`UnknownObjectError`) for a class that is not built in or registered.
    """
    config = dict(config)
    layer_configs = config.pop("layers")
    input_layers = config.pop("input_layers")
    output_layers = config.pop("output_layers")
    name = config.pop("name", None)
    trainable = config.pop("trainable", None)
    created = {}
    pending = {}
    order = []
    with serialization_lib.shared_object_scope():
        for layer_data in layer_configs:
            layer = serialization_lib._deserialize(layer_data, custom_objects)
            if isinstance(layer, dict) or not hasattr(layer, "_inbound_nodes"):
                raise ValueError(
                    f"Invalid functional config: entry {layer_data.get('name')!r} is not a layer or op."
                )
            base = 0 if isinstance(layer, InputLayer) else len(layer._inbound_nodes)
            created[layer_data["name"]] = (layer, base)
            order.append(layer_data["name"])
            pending[layer_data["name"]] = collections.deque(layer_data.get("inbound_nodes") or [])
        # A worklist, linear in the number of nodes whatever the order of the layers: a node
        # whose input is not made yet waits on the layer that makes it and is retried only when
        # that layer gains a call.
        ready = collections.deque(order)
        waiting = collections.defaultdict(list)
        while ready:
            layer_name = ready.popleft()
            queue = pending[layer_name]
            while queue:
                try:
                    _call_node(created[layer_name][0], queue[0], created)
                except _NotReady as missing:
                    waiting[missing.args[0]].append(layer_name)
                    break
                queue.popleft()
                ready.extend(waiting.pop(layer_name, ()))
        stuck = sorted(k for k, v in pending.items() if v)
        if stuck:
            raise ValueError(
                "Invalid functional model configuration: the graph has loops or disconnected "
                f"nodes. These layers' calls could not be resolved: {stuck}"
            )

    def tensor(entry):
        layer_name, node_index, tensor_index = entry
        if layer_name not in created:
            raise ValueError(f"Invalid functional config: unknown input/output layer {layer_name!r}.")
        layer, base = created[layer_name]
        if is_functional(layer):
            node_index -= 1  # Keras counts a nested functional model's calls from 1 here
        nodes = layer._inbound_nodes
        if not 0 <= base + node_index < len(nodes):
            raise ValueError(
                f"Invalid functional config: input/output {entry} refers to a call of "
                f"{layer_name!r} that the config does not make."
            )
        return nodes[base + node_index].output_tensors[tensor_index]

    def map_entries(value):
        if _is_leaf(value):
            return tensor(value)
        if isinstance(value, dict):
            return {k: map_entries(v) for k, v in value.items()}
        return [map_entries(v) for v in value]

    inputs = map_entries(input_layers)
    outputs = map_entries(output_layers)
    config = strip_shared_ids(config)
    config.pop("dtype", None)
    model = cls(inputs=inputs, outputs=outputs, name=name, **config)
    if trainable is False:
        model.trainable = False
    return model


def _dtype_policy(model):
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": model._dtype_policy_name},
        "registered_name": None,
    }


def sequential_config(model):
    """Returns a Sequential model's config in Keras 3's schema.

    Returns:
        `{"name", "trainable", "dtype", "layers": [...], "build_input_shape"}`; the InputLayer
        is listed first when the model has one, and `build_input_shape` is present once built.
    """
    layers = []
    if model._input_layer is not None:
        layers.append(serialize_keras_object(model._input_layer))
    layers.extend(serialize_keras_object(layer) for layer in model._stack)
    config = {
        "name": model.name,
        "trainable": model.trainable,
        "dtype": _dtype_policy(model),
        "layers": layers,
    }
    if model._is_graph_network:
        config["build_input_shape"] = tuple(model._input_layer.batch_shape)
    return config


def _sequential_from_config(cls, config, custom_objects=None):
    """Rebuilds a Sequential model from `sequential_config` (or Keras 3's / tf.keras's config).

    Raises:
        ValueError: When the config has no `layers`.
    """
    if isinstance(config, list):  # tf.keras 2.0-era configs were the bare list of layers
        config = {"name": None, "layers": config}
    if "layers" not in config:
        raise ValueError(
            "A Sequential model configuration must be a dictionary containing the 'name' and "
            f"'layers' keys. Received: config={config}"
        )
    model = cls(name=config.get("name"))
    with serialization_lib.shared_object_scope():
        for layer_data in config["layers"]:
            layer = serialization_lib._deserialize(layer_data, custom_objects)
            model.add(layer, rebuild=False)
    model._maybe_rebuild()
    shape = config.get("build_input_shape")
    if not model._is_graph_network and isinstance(shape, (list, tuple)) and model._stack:
        model.build(tuple(shape))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def functional_from_config(cls, config, custom_objects=None):
    """Rebuilds a functional model from its config (see `_functional_from_config`).

    `custom_objects` are in scope for the whole rebuild, as in Keras: a layer's own
    `from_config` (a Dense resolving a registered custom activation by name) sees them too.
    """
    with CustomObjectScope(custom_objects or {}):
        return _functional_from_config(cls, config, custom_objects=custom_objects)


def sequential_from_config(cls, config, custom_objects=None):
    """Rebuilds a Sequential model from its config, `custom_objects` in scope throughout."""
    with CustomObjectScope(custom_objects or {}):
        return _sequential_from_config(cls, config, custom_objects=custom_objects)
