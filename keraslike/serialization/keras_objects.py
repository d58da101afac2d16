"""Keras 3's serialized-object format: `serialize_keras_object` / `deserialize_keras_object`.

An object becomes `{"module", "class_name", "config", "registered_name"}` (+ `build_config`,
`compile_config` for layers and models), exactly as Keras 3 writes it, so configs move between
Keras and keraslike. Special values use Keras's markers (`__keras_tensor__`, `__slice__`,
`__ellipsis__`, `__numpy__`, `__tensor__`, `__bytes__`); keraslike adds `__tuple__` and
`__torch_dtype__` for the arguments of op nodes, which Keras has no marker for.

Loading never runs code from a config: classes and functions are looked up by name in
`custom_objects`, the registry and keraslike's own tables (`registry`, `ops_table`).
A `Lambda`'s function is refused in safe mode; outside it, only a registered function is looked
up by name (Python bytecode is never unmarshalled).
"""

import contextlib
import contextvars
import inspect
import types

from keraslike.graph.operation import TorchFunction
from keraslike.serialization import ops_table
from keraslike.serialization import registry
from keraslike.serialization.errors import UnsafeDeserializationError
from keraslike.serialization.functions import (
    lambda_config,
    lambda_from_config,
    lookup_function,
    serialize_function,
)
from keraslike.serialization.values import (
    deserialize_value,
    serialize_special,
    strip_shared_ids,
    to_shape,
)

_SHARED = contextvars.ContextVar("keraslike_shared_objects", default=None)
_SHARED_BY_NAME = contextvars.ContextVar("keraslike_shared_by_name", default=None)
_SAVING = contextvars.ContextVar("keraslike_saving", default=False)
_SHARED_REF = "__keraslike_object_id__"

# ---------------------------------------------------------------------------------- serialize


def _class_identity(obj):
    """(module, class_name, registered_name) under which Keras 3 saves `obj`'s class."""
    cls = type(obj)
    if registry.is_registered(cls):
        module = None if cls.__module__ == "__main__" else cls.__module__
        return module, cls.__name__, registry.get_registered_name(cls)
    if cls is registry.builtin_layer("Sequential"):
        return "keras", "Sequential", None
    if cls is registry.builtin_layer("Model"):
        if obj._is_graph_network:
            return "keras.src.models.functional", "Functional", "Functional"
        return "keras", "Model", None
    declared = cls.__dict__.get("_keras_serialized_as")  # `public_module(...)` on the class
    if declared is not None:
        return declared[0], cls.__name__, declared[1]
    if registry.is_builtin_layer_class(cls):
        return "keras.layers", cls.__name__, None
    module = None if cls.__module__ == "__main__" else cls.__module__
    return module, cls.__name__, cls.__name__


def is_functional(op):
    """Whether `op` is a graph `Model` that Keras saves as `Functional` (not Sequential)."""
    cls = type(op)
    return (
        registry.is_builtin_subclass(cls, "Model")
        and op._is_graph_network
        and not registry.is_builtin_subclass(cls, "Sequential")
    )


def serialize_keras_object(obj):
    """Returns `obj` in Keras 3's serialized format (JSON-safe once tuples become lists).

    Args:
        obj: A layer, model, op, optimizer, or any value a config may hold (numbers, strings,
            lists, dicts, slices, arrays, KerasTensors).

    Returns:
        A dict `{"module", "class_name", "config", "registered_name", ...}` for objects, the
        value itself for plain values.

    Example:

    >>> keras.saving.serialize_keras_object(keras.layers.Dense(2))["class_name"]
    'Dense'
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    special = serialize_special(obj)
    if special is not None:
        return special
    if isinstance(obj, TorchFunction):
        return ops_table.serialize_op(obj)
    if isinstance(obj, types.FunctionType) or isinstance(obj, types.BuiltinFunctionType):
        return serialize_function(obj)
    serialize = registry.find_serializer(obj)
    if serialize is not None:  # optimizers: their package writes them
        return serialize(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize object {obj!r} of type {type(obj).__name__}: to be serializable, "
            "a class must implement `get_config()`."
        )
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(
            f"The `get_config()` method of {obj!r} should return a dict. It returned: {config!r}"
        )
    config = lambda_config(obj, config)
    module, class_name, registered_name = _class_identity(obj)
    result = {
        "module": module,
        "class_name": class_name,
        "config": serialize_keras_object(config),
        "registered_name": registered_name,
    }
    _add_build_and_compile_config(obj, result)
    if _SAVING.get() and hasattr(obj, "_inbound_nodes"):
        result[_SHARED_REF] = id(obj)  # resolved by `serialize_for_saving`
    return result


def serialize_for_saving(obj):
    """`serialize_keras_object` for a file: a layer that appears more than once (shared between
    nested models) gets Keras's `shared_object_id` in every config, so it is one object again
    after loading (Keras's own files miss the mark on the first occurrence inside a nested
    model; `deserialize` copes with that too). `get_config()` and `to_json()` carry no marks,
    as in Keras.
    """
    token = _SAVING.set(True)
    try:
        config = serialize_keras_object(obj)
    finally:
        _SAVING.reset(token)
    counts = {}

    def visit(value, resolve):
        if isinstance(value, dict):
            if _SHARED_REF in value:
                ref = value[_SHARED_REF]
                if resolve:
                    del value[_SHARED_REF]
                    if counts[ref] > 1:
                        value["shared_object_id"] = ref
                else:
                    counts[ref] = counts.get(ref, 0) + 1
            for item in value.values():
                visit(item, resolve)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, resolve)

    visit(config, resolve=False)
    visit(config, resolve=True)
    return config


def _add_build_and_compile_config(obj, result):
    cls = type(obj)
    if registry.is_builtin_subclass(cls, "Model"):
        if registry.is_builtin_subclass(cls, "Sequential"):
            shape = obj._input_layer.batch_shape if obj._is_graph_network else None
            if shape is not None:
                result["build_config"] = {"input_shape": tuple(shape)}
        elif obj._is_graph_network:
            result["build_config"] = {"input_shape": None}
        else:  # a subclassed model: the shape it was built with (by `fit`, a call, `build`)
            build_config = obj.get_build_config()
            if build_config is not None:
                result["build_config"] = serialize_keras_object(build_config)
        compile_config = None
        if hasattr(obj, "get_compile_config"):
            compile_config = obj.get_compile_config()
        result["compile_config"] = serialize_keras_object(compile_config or {})
        return
    if getattr(cls, "_keras_build_at_init", False):
        return  # Keras builds these at construction and saves no build config for them
    if hasattr(obj, "get_build_config"):
        build_config = obj.get_build_config()
        if build_config is not None:
            result["build_config"] = serialize_keras_object(build_config)


# -------------------------------------------------------------------------------- deserialize


@contextlib.contextmanager
def shared_object_scope():
    """Within it, configs carrying the same `shared_object_id` deserialize to one object."""
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set({})
    by_name = _SHARED_BY_NAME.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)
        _SHARED_BY_NAME.reset(by_name)


def _with_custom_objects(fn, config, custom_objects):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if "custom_objects" in params:
        return fn(config, custom_objects=custom_objects)
    return fn(config)


def _deserialize_non_layer(config, custom_objects):
    # The packages' own `deserialize` (optimizers, losses, ...), registered by the package root.
    deserialize = registry.find_deserializer(config.get("module"))
    if deserialize is None:
        return None
    return _with_custom_objects(deserialize, config, custom_objects)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Returns the object a Keras 3 serialized dict describes.

    Args:
        config: The output of `serialize_keras_object` (or a Keras 3 config).
        custom_objects: Optional dict name -> class or function for custom objects.
        safe_mode: When `True` (default), a `Lambda` holding a Python function is refused.

    Returns:
        The object (a layer, model, optimizer, ...), or the plain value.

    Raises:
        UnknownObjectError: (a TypeError and a ValueError) for a class that is neither built in
            nor registered nor in `custom_objects`.
        UnsafeDeserializationError: (a ValueError) for a `Lambda` in safe mode.
        ValueError: For a config nested too deeply to rebuild.

    Example:

    >>> layer = keras.saving.deserialize_keras_object(
    ...     {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2},
    ...      "registered_name": None})
    """
    with registry.safe_mode_scope(safe_mode), shared_object_scope():
        try:
            return _deserialize(config, custom_objects)
        except RecursionError:
            raise ValueError(
                "The config is nested too deeply to be deserialized (a corrupt or hostile file?)."
            ) from None


def deserialize_nested(config, custom_objects=None):
    """Deserializes a config found inside another one (a wrapped layer, a model's layers).

    Keeps the caller's safe mode and shared-object scope (a top-level call opens them).
    """
    with shared_object_scope():
        return _deserialize(config, custom_objects)


def _deserialize(config, custom_objects):
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        return config
    if isinstance(config, (list, tuple)):
        return [_deserialize(v, custom_objects) for v in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    class_name = config.get("class_name")
    if class_name is None or "config" not in config:
        return {k: _deserialize(v, custom_objects) for k, v in config.items()}
    if class_name.startswith("__") and class_name.endswith("__"):
        if class_name == "__lambda__":
            raise UnsafeDeserializationError(
                "The config holds a Python `lambda`, which keraslike never deserializes (its "
                "bytecode is never unmarshalled). Replace it with a named function registered "
                "with `@keras.saving.register_keras_serializable()`."
            )
        return deserialize_value(config)
    if class_name == "function":
        return lookup_function(config, custom_objects)
    shared_id = config.get("shared_object_id")
    shared = _SHARED.get()
    if shared_id is not None and shared is not None:
        if shared_id in shared:
            return shared[shared_id]
        earlier = _earlier_twin(config)
        if earlier is not None:
            shared[shared_id] = earlier
            return earlier
    obj = _instantiate(config, custom_objects)
    if shared_id is not None and shared is not None:
        shared[shared_id] = obj
    _remember_by_name(config, obj)
    return obj


def _layer_key(config):
    inner = config.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    return (config.get("class_name"), name) if name else None


def _remember_by_name(config, obj):
    table = _SHARED_BY_NAME.get()
    key = _layer_key(config)
    if table is not None and key is not None and hasattr(obj, "_inbound_nodes"):
        table.setdefault(key, []).append((strip_shared_ids(config.get("config")), obj))


def _earlier_twin(config):
    """The layer already created from the same class, name and config, if any.

    Keras marks a shared layer with `shared_object_id`, but when the layer first appears inside
    a nested model its mark is missing there; the marked later occurrence is the same layer.
    """
    table = _SHARED_BY_NAME.get()
    key = _layer_key(config)
    if table is None or key is None:
        return None
    inner = strip_shared_ids(config.get("config"))
    matches = [obj for seen, obj in table.get(key, []) if seen == inner]
    return matches[0] if len(matches) == 1 else None


def _instantiate(config, custom_objects):
    if ops_table.is_op_config(config):
        return ops_table.deserialize_op(config, custom_objects)
    if not registry.current_custom_objects(custom_objects).get(config["class_name"]):
        obj = _deserialize_non_layer(config, custom_objects)
        if obj is not None:
            return obj
    cls = registry.resolve_class(config, custom_objects)
    inner = strip_shared_ids(config["config"])
    if not isinstance(inner, dict):
        raise ValueError(f"The config of {config['class_name']!r} must be a dict. Received: {inner!r}")
    if registry.is_builtin_subclass(cls, "Lambda"):
        return lambda_from_config(cls, inner, custom_objects)
    if registry.is_builtin_subclass(cls, "InputLayer"):
        inner = _input_layer_config(cls, inner)
    if registry.is_builtin_subclass(cls, "Model"):
        # Nested layer configs keep their `shared_object_id`s (shared layers are found by them).
        model = _with_custom_objects(cls.from_config, dict(config["config"]), custom_objects)
        build_config = config.get("build_config")
        if (build_config and not getattr(model, "_is_graph_network", True) and not model.built
                and not registry.is_builtin_subclass(cls, "Sequential")):
            # A subclassed model is built from the input shape it was saved with, as in Keras,
            # so its sublayers have their weights before the file's are loaded.
            model.build_from_config(to_shape(strip_shared_ids(build_config)))
        return model
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Class {cls!r} named by the config has no `from_config()`.")
    obj = _with_custom_objects(cls.from_config, dict(inner), custom_objects)
    build_config = config.get("build_config")
    if build_config and getattr(obj, "built", True) is False and hasattr(obj, "build_from_config"):
        obj.build_from_config(to_shape(strip_shared_ids(build_config)))
    return obj


def _input_layer_config(cls, config):
    """Keras's InputLayer config, minus keys this InputLayer does not take (`ragged=False`)."""
    params = inspect.signature(cls.__init__).parameters
    config = dict(config)
    if "ragged" in config and "ragged" not in params:
        if config.pop("ragged"):
            name = config.get("name")
            raise ValueError(f"InputLayer {name!r} is ragged; keraslike has no ragged tensors.")
    if "batch_shape" in config and config["batch_shape"] is not None:
        config["batch_shape"] = tuple(config["batch_shape"])
    return config


