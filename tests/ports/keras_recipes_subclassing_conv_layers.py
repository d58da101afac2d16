"""Port of keras-io `examples/keras_recipes/subclassing_conv_layers.py` (lukewood): `convolution_op`.

Changed: data loading (`keras.datasets.mnist.load_data` -> synthetic uint8 images (n, 28, 28) and
labels 0-9, seeded, n=256 / 64), epochs 5 -> 3, the library passed in as `keras`. As in the
Keras 3 edition, `ops.moments` / `ops.conv` / `ops.sqrt` replace `tf.nn.moments` /
`tf.nn.conv2d` / `tf.sqrt`, and `keras.Input(shape=...)` replaces `InputLayer(input_shape=...)`.
Both layer subclasses, model, compile and fit are the example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    class StandardizedConv2DWithOverride(layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
            return ops.conv(
                inputs,
                (kernel - mean) / ops.sqrt(var + 1e-10),
                padding="valid",
                strides=list(self.strides),
            )

    class StandardizedConv2DWithCall(layers.Conv2D):
        def call(self, inputs):
            mean, var = ops.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
            result = self.convolution_op(inputs, (self.kernel - mean) / ops.sqrt(var + 1e-10))
            if self.use_bias:
                result = result + self.bias
            return result

    num_classes = 10
    input_shape = (28, 28, 1)
    x_train = rng.integers(0, 256, size=(256, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, size=(256,))
    x_train = x_train.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            StandardizedConv2DWithCall(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            StandardizedConv2DWithOverride(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.summary()

    batch_size = 128
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model.fit(x_train, y_train, batch_size=batch_size, epochs=3, validation_split=0.1, verbose=0)
