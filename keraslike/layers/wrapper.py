"""`keras.layers.Wrapper`: the base class of layers that hold and augment another layer."""

from keraslike.layers.layer import Layer
from keraslike.layers.recurrent._serialization import deserialize_layer, serialize_layer


class Wrapper(Layer):
    """Abstract wrapper base class: a layer that holds another layer and augments it.

    Subclasses define `call` (and usually `build`). The wrapped layer is a sublayer, so its
    weights are the wrapper's weights; its config is saved in the wrapper's config under
    `"layer"`, as Keras 3 does.

    Args:
        layer: The `keras.layers.Layer` to wrap.
        **kwargs: The common layer arguments (`name`, `dtype`, `trainable`, ...).

    Example:

    ```python
    class Doubled(keras.layers.Wrapper):
        def call(self, inputs):
            return 2 * self.layer(inputs)

    y = Doubled(keras.layers.Dense(3))(x)
    ```
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure "
                "wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        """Builds the wrapped layer on `input_shape` if it is not built yet."""
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)
