"""`keras.models.clone_model`: the same architecture with new layers (and new weights)."""

from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.operation import TorchFunction
from keraslike.layers.core import Lambda
from keraslike.layers.input_layer import Input, InputLayer
from keraslike.models.functional import Model
from keraslike.models.sequential import Sequential


def _default_clone(layer):
    """A new layer of the same class and config (fresh weights), as Keras's `_clone_layer`."""
    config = layer.get_config()
    if isinstance(layer, Lambda):
        known = ("output_shape", "arguments", "name", "trainable", "dtype")
        kwargs = {k: v for k, v in config.items() if k in known}
        return type(layer)(layer.function, mask=layer.mask, **kwargs)
    if isinstance(layer, Model):
        return clone_model(layer)
    return type(layer).from_config(config)


def _clone_input(layer):
    return Input(
        batch_shape=layer.batch_shape,
        dtype=layer.dtype,
        name=layer.name,
        optional=layer.optional,
    )


def clone_model(
    model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs
):
    """Returns a copy of a functional or Sequential model with new layers and new weights.

    The weights are newly initialized, not copied (use `new.set_weights(model.get_weights())`).
    A compiled functional or Sequential model's clone is compiled with the same arguments and a
    new optimizer, as in Keras.

    Args:
        model: A functional or Sequential model.
        input_tensors: Optional input KerasTensors (same structure as `model.inputs`) to build
            the clone on.
        clone_function: Called as `clone_function(layer)` to get each new layer; defaults to a
            new layer from the old one's config. Return the same layer to share it.
        call_function: Called as `call_function(layer, *args, **kwargs)` to make each call of a
            functional graph; defaults to `layer(*args, **kwargs)`.
        recursive: Whether nested models are cloned with `clone_function` applied to their
            layers too (otherwise a nested model goes to `clone_function` as one layer).

    Returns:
        The new model.

    Raises:
        ValueError: For a subclassed model given `input_tensors` or `clone_function`, or
            unexpected arguments.

    Example:

    ```python
    new_model = keras.models.clone_model(model)
    new_model.set_weights(model.get_weights())
    ```
    """
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s) for `clone_model`: {sorted(kwargs)}")
    user_clone = clone_function
    clone_function = clone_function or _default_clone

    def clone_layer(layer):
        if recursive and isinstance(layer, Model) and layer._is_graph_network:
            return clone_model(
                layer, clone_function=user_clone, call_function=call_function, recursive=True
            )
        if isinstance(layer, TorchFunction):
            return TorchFunction(layer.fn, name=layer.name)
        return clone_function(layer)

    if isinstance(model, Sequential):
        return _compiled_like(model, _clone_sequential(model, input_tensors, clone_layer))
    if not isinstance(model, Model):
        # Keras returns such an argument unchanged: no copy was made, the caller should know.
        raise ValueError(
            f"`clone_model` clones a keras Model. Received: {model!r:.80} of type "
            f"{type(model).__name__}"
        )
    if not model._is_graph_network:
        if input_tensors is not None or user_clone is not None or call_function is not None:
            raise ValueError(
                "Arguments `clone_function`, `call_function` and `input_tensors` are only "
                f"supported for Sequential and functional models. Received: {type(model).__name__}"
            )
        return type(model).from_config(model.get_config())
    return _compiled_like(model, _clone_functional(model, input_tensors, clone_layer, call_function))


def _compiled_like(model, clone):
    """`clone`, compiled from `model`'s compile config when `model` is compiled (as Keras's
    functional and Sequential clones are; a new optimizer, not the model's)."""
    if getattr(model, "compiled", False):
        clone.compile_from_config(model.get_compile_config())
    return clone


def _clone_sequential(model, input_tensors, clone_layer):
    layers = [clone_layer(layer) for layer in model.layers]
    if input_tensors is not None:
        tensor = nest.flatten(input_tensors)
        if len(tensor) != 1:
            raise ValueError(f"A Sequential model takes one input tensor. Received: {input_tensors!r}")
        first = [tensor[0]]
    elif model._input_layer is not None:
        first = [_clone_input(model._input_layer)]
    else:
        first = []
    return Sequential(first + layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, input_tensors, clone_layer, call_function):
    mapping = {}
    if input_tensors is not None:
        new_inputs = nest.flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(
                f"`input_tensors` must have {len(model.inputs)} tensors like the model's inputs. "
                f"Received: {input_tensors!r}"
            )
        for old, new in zip(model.inputs, new_inputs):
            if not isinstance(new, KerasTensor):
                raise ValueError(
                    f"`input_tensors` must be KerasTensors (from `keras.Input`). Received: {new!r}"
                )
            mapping[id(old)] = new
    else:
        for old in model.inputs:
            mapping[id(old)] = _clone_input(old._keras_history[0])
    clones = {}

    def swap(x):
        return mapping[id(x)] if isinstance(x, KerasTensor) else x

    for node in model._graph.nodes:
        op = node.operation
        if node.is_input or isinstance(op, InputLayer):
            continue
        if id(op) not in clones:
            clones[id(op)] = clone_layer(op)
        new_op = clones[id(op)]
        args = nest.map_structure(swap, list(node.call_args))
        kwargs = nest.map_structure(swap, dict(node.call_kwargs))
        if call_function is not None:
            outputs = call_function(new_op, *args, **kwargs)
        else:
            outputs = new_op(*args, **kwargs)
        for old, new in zip(node.output_tensors, nest.flatten(outputs)):
            mapping[id(old)] = new
    inputs = nest.map_structure(swap, model._inputs_struct)
    outputs = nest.map_structure(swap, model._outputs_struct)
    return Model(inputs, outputs, name=model.name, trainable=model.trainable)
