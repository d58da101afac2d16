"""Port of keras-io `examples/vision/convmixer.py` (Image classification with ConvMixer, Sayak
Paul, Keras 3 edition).

Changed: data (`keras.datasets.cifar10.load_data` -> synthetic uint8 images (n, 16, 16, 3) and
labels (n, 1) 0-9, seeded, n=96 / 32, 10% validation split as the example), the tf.data
pipeline (with its RandomCrop/RandomFlip augmentation) -> numpy arrays given to `fit`, the
model's size (ConvMixer-256/8 on 32x32 -> filters 32, depth 2 on 16x16), epochs 10 -> 2,
batch_size 128 -> 32, the checkpoint written to a temporary folder, plotting dropped, the
library passed in as `keras`. Model builders, AdamW, compile, the `ModelCheckpoint`
(`save_best_only`, `save_weights_only`) then `load_weights` and `evaluate` are the example's.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    rng = np.random.default_rng(0)

    learning_rate = 0.001
    weight_decay = 0.0001
    batch_size = 32
    num_epochs = 2

    x_train = rng.integers(0, 256, size=(96, 16, 16, 3)).astype("uint8")
    y_train = rng.integers(0, 10, size=(96, 1))
    x_test = rng.integers(0, 256, size=(32, 16, 16, 3)).astype("uint8")
    y_test = rng.integers(0, 10, size=(32, 1))
    val_split = 0.1

    val_indices = int(len(x_train) * val_split)
    new_x_train, new_y_train = x_train[val_indices:], y_train[val_indices:]
    x_val, y_val = x_train[:val_indices], y_train[:val_indices]

    def activation_block(x):
        x = layers.Activation("gelu")(x)
        return layers.BatchNormalization()(x)

    def conv_stem(x, filters: int, patch_size: int):
        x = layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x)
        return activation_block(x)

    def conv_mixer_block(x, filters: int, kernel_size: int):
        # Depthwise convolution.
        x0 = x
        x = layers.Conv2D(filters, kernel_size=kernel_size, groups=filters, padding="same")(x)
        x = layers.Add()([activation_block(x), x0])  # Residual.

        # Pointwise convolution.
        x = layers.Conv2D(filters, kernel_size=1)(x)
        x = activation_block(x)

        return x

    def get_conv_mixer_256_8(image_size=16, filters=32, depth=2, kernel_size=5, patch_size=2, num_classes=10):
        inputs = keras.Input((image_size, image_size, 3))
        x = layers.Rescaling(scale=1.0 / 255)(inputs)

        # Extract patch embeddings.
        x = conv_stem(x, filters, patch_size)

        # ConvMixer blocks.
        for _ in range(depth):
            x = conv_mixer_block(x, filters, kernel_size)

        # Classification block.
        x = layers.GlobalAvgPool2D()(x)
        outputs = layers.Dense(num_classes, activation="softmax")(x)

        return keras.Model(inputs, outputs)

    def run_experiment(model, folder):
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)

        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

        checkpoint_filepath = os.path.join(folder, "checkpoint.weights.h5")
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        )

        if on_model:
            on_model(model)
        history = model.fit(
            new_x_train,
            new_y_train,
            batch_size=batch_size,
            validation_data=(x_val, y_val),
            epochs=num_epochs,
            callbacks=[checkpoint_callback],
            shuffle=shuffle,
            verbose=0,
        )

        model.load_weights(checkpoint_filepath)
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        history.results = {"evaluate": {"accuracy": accuracy}}
        return history, model

    conv_mixer_model = get_conv_mixer_256_8()
    with tempfile.TemporaryDirectory() as folder:
        history, conv_mixer_model = run_experiment(conv_mixer_model, folder)

    patch_embeddings = conv_mixer_model.layers[2].get_weights()[0]
    assert patch_embeddings.shape == (2, 2, 3, 32), patch_embeddings.shape
    depthwise = [layer for layer in conv_mixer_model.layers
                 if isinstance(layer, layers.Conv2D) and layer.get_config()["kernel_size"] == (5, 5)]
    assert len(depthwise) == 2 and depthwise[0].get_weights()[0].shape == (5, 5, 1, 32)
    return history
