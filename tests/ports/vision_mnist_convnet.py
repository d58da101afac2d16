"""Port of keras-io `examples/vision/mnist_convnet.py` (Simple MNIST convnet, fchollet).

Changed: data loading (synthetic uint8 images of MNIST's shape (n, 28, 28) and labels 0-9,
seeded, n=256 / 64 instead of 60000 / 10000), epochs 15 -> 3, batch_size 128 -> 64, the library
passed in as `keras` (`import keras` / `import keraslike as keras`). Everything else is the
example's code.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)

    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets (synthetic, see header)
    x_train = rng.integers(0, 256, size=(256, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, size=(256,)).astype("uint8")
    x_test = rng.integers(0, 256, size=(64, 28, 28)).astype("uint8")
    y_test = rng.integers(0, 10, size=(64,)).astype("uint8")

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )

    model.summary()

    batch_size = 64
    epochs = 3

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1,
                        verbose=0)

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    return history
