"""Port of keras-io `examples/keras_recipes/antirectifier.py` (fchollet): a custom layer.

Changed: data loading (synthetic float MNIST-like vectors (n, 784) in [0, 1] and labels 0-9,
seeded, n=256 / 64), epochs 20 -> 3, the library passed in as `keras`. The layer's `call` uses
`keras.ops` as the Keras 3 edition does (`ops.mean`, `ops.relu`, `ops.concatenate`,
`ops.matmul` where the TF edition had tf.*). Layer, model, compile and fit are the example's.
A config round trip of the custom layer (its `get_config`) is added as a check.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    class Antirectifier(layers.Layer):
        def __init__(self, initializer="he_normal", **kwargs):
            super().__init__(**kwargs)
            self.initializer = keras.initializers.get(initializer)

        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim),
                initializer=self.initializer,
                name="kernel",
                trainable=True,
            )

        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            pos = ops.relu(inputs)
            neg = ops.relu(-inputs)
            concatenated = ops.concatenate([pos, neg], axis=-1)
            mixed = ops.matmul(concatenated, self.kernel)
            return mixed

        def get_config(self):
            # Implement get_config to enable serialization. This is optional.
            base_config = super().get_config()
            config = {"initializer": keras.initializers.serialize(self.initializer)}
            return dict(list(base_config.items()) + list(config.items()))

    x_train = rng.random((256, 784)).astype("float32")
    y_train = rng.integers(0, 10, size=(256,))
    x_test = rng.random((64, 784)).astype("float32")
    y_test = rng.integers(0, 10, size=(64,))

    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(256),
            Antirectifier(),
            layers.Dense(256),
            Antirectifier(),
            layers.Dropout(0.5),
            layers.Dense(10),
        ]
    )

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    history = model.fit(x_train, y_train, batch_size=128, epochs=3, validation_split=0.15, verbose=0)
    model.evaluate(x_test, y_test, verbose=0)

    layer = model.layers[1]
    clone = Antirectifier.from_config(layer.get_config())
    assert clone.get_config()["initializer"] == layer.get_config()["initializer"]
    return history
