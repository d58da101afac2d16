"""Pipeline: a sequence of preprocessing layers applied in order (Keras 3's `Pipeline`)."""

import torch

from keraslike.graph.operation import any_symbolic
from keraslike.layers.layer import Layer
from keraslike.layers.recurrent._serialization import deserialize_layer, serialize_layer


class Pipeline(Layer):
    """Applies a list of preprocessing layers in order, passing `training` on.

    Unlike `Sequential`, a `Pipeline` is not a model: it has no input shape and can be called
    on host data (numpy images, strings) in a data pipeline, or used as a layer in a model.

    Args:
        layers: The layers to apply, in order.
        name: Optional name.

    Example:

    ```python
    augment = keras.layers.Pipeline([
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(0.1),
    ])
    images = augment(images)  # training=True by default, as Keras
    ```
    """

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = torch.nn.ModuleList(layers)

    @property
    def layers(self):
        return list(self._pipeline_layers)

    def __call__(self, *args, **kwargs):
        # Host data (numpy images, strings) goes to the layers as it is.
        if args and not isinstance(args[0], torch.Tensor) and not any_symbolic(args, kwargs):
            return self.call(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=True):
        outputs = inputs
        for layer in self._pipeline_layers:
            outputs = layer(outputs, training=training)
        return outputs

    def get_config(self):
        layers = [serialize_layer(layer) for layer in self._pipeline_layers]
        return {"layers": layers, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized "
                f"layers. Received config with layers={layers}."
            )
        config = {**config, "layers": [deserialize_layer(x, custom_objects) for x in layers]}
        return cls(**config)
