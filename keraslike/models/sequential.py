"""Sequential: a linear stack of layers, built into a functional graph once its input is known."""

from keraslike.backend.errors import EmptyModelError
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.layers.input_layer import InputLayer
from keraslike.layers.layer import Layer
from keraslike.models.functional import Model
from keraslike.models.functional_config import sequential_config, sequential_from_config


class Sequential(Model):
    """A model that is a plain stack of layers, each with one input and one output.

    When the input shape is known (an `keras.Input` or `InputLayer` first, or `input_shape=` on the
    first layer) the model builds its graph at once; otherwise at its first call or `build()`.

    Args:
        layers: Optional list of layers (or an `Input` tensor first).
        trainable: Whether the model's layers are trainable.
        name: The model's name (`"sequential"`, `"sequential_1"`, ... by default).

    Example:

    ```python
    model = keras.Sequential([
        keras.Input(shape=(16,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1),
    ])
    ```
    """

    # As Keras's Sequential, a call does not check the input's sizes against the built ones, so a
    # stack built on one sequence length runs on others (keras-io's Transformer feed-forward
    # blocks). Keras leaves the sizes to the layers' input specs, which the built graph does not
    # re-check per call: the rank and the last (feature) axis are checked here instead.
    _checks_all_input_sizes = False

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name or None)
        self._stack = []
        self._input_layer = None
        for layer in layers or ():
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Adds a layer (or an `Input` tensor, first) on top of the stack."""
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError(
                    f'Sequential model "{self.name}" already has layers; an InputLayer must come first.'
                )
            self._input_layer = layer
        elif not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer)})"
            )
        else:
            for existing in self._stack:
                if existing.name == layer.name:
                    raise ValueError(
                        f'All layers added to a Sequential model should have unique names. Name '
                        f'"{layer.name}" is already the name of a layer in this model.'
                    )
            self._stack.append(layer)
            self._modules[layer.name] = layer
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes the last layer and returns it."""
        if not self._stack:
            raise EmptyModelError(f'Sequential model "{self.name}": there are no layers to pop.')
        layer = self._stack.pop()
        del self._modules[layer.name]
        if rebuild:
            self._plan = None
            self.built = False
            self._maybe_rebuild()
        return layer

    def _input_batch_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape, self._input_layer.dtype
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape, None
        return None, None

    def _maybe_rebuild(self):
        self._plan = None
        self.built = False
        shape, dtype = self._input_batch_shape()
        if shape is not None and self._stack:
            self.build(shape, dtype=dtype)

    def build(self, input_shape=None, dtype=None):
        """Builds the graph for inputs of `input_shape` (batch dimension first)."""
        self._check_not_empty()
        if input_shape is None:
            input_shape, dtype = self._input_batch_shape()
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        input_shape = tuple(input_shape)
        if self._input_layer is None or self._input_layer.batch_shape != input_shape:
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=dtype)
        x = self._input_layer._input_tensor
        for layer in self._stack:
            x = layer(x)
        outputs = x
        keep = dict(self._modules)
        self._init_graph(self._input_layer._input_tensor, outputs)
        self._modules.clear()
        self._modules.update(keep)

    def _check_not_empty(self):
        # Keras's error: an empty stack would return its inputs unchanged.
        if not self._stack:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. "
                "Call `model.add(layer)`."
            )

    @property
    def layers(self):
        """The stacked layers (without the InputLayer, as in Keras)."""
        return list(self._stack)

    def _sublayers(self):
        return list(self._stack)

    _plan_entry = True  # with a graph, `call` and `forward` are Model's (see Model.__call__)

    def call(self, *inputs, training=None, mask=None):
        """Runs the stack: through the built graph when there is one, else layer by layer."""
        if self._is_graph_network:
            return super().call(*inputs, training=training, mask=mask)
        if len(inputs) != 1:
            raise ValueError(f'Sequential model "{self.name}" takes one input; got {len(inputs)}.')
        self._check_not_empty()
        x = inputs[0]
        for layer in self._stack:
            x = layer(x) if training is None else layer(x, training=training)
        return x

    def forward(self, inputs, *more_inputs, **kwargs):
        if not self._is_graph_network and self._stack and hasattr(inputs, "shape"):
            self.build((None,) + tuple(inputs.shape[1:]))
        return super().forward(inputs, *more_inputs, **kwargs)

    def _maybe_build(self, args, kwargs):
        if not self._is_graph_network and self._stack and args and hasattr(args[0], "shape"):
            first = args[0]
            dtype = getattr(first, "dtype", None)
            self.build(
                (None,) + tuple(first.shape[1:]),
                dtype=dtype if isinstance(dtype, str) else None,
            )
        self.built = True

    def get_config(self):
        """Returns Keras 3's Sequential config: the name and the list of layer configs."""
        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Sequential model from `get_config()` output."""
        return sequential_from_config(cls, config, custom_objects=custom_objects)
