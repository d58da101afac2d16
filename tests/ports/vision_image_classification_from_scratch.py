"""Port of keras-io `examples/vision/image_classification_from_scratch.py` (fchollet, Keras 3
edition).

Changed: data (the Cats vs Dogs download and `image_dataset_from_directory` -> seeded synthetic
uint8-valued float images (n, 32, 32, 3) with binary labels, n=16 / 8), image_size (180, 180) ->
(32, 32), batch size 128 -> 8, epochs 25 -> 2, the tf.data `map` of `data_augmentation` -> the
function applied to the training images once before `fit`, checkpoints under a temporary
directory, plotting dropped, the library passed in as `keras`. Kept: the augmentation layers
(RandomFlip, RandomRotation) and `data_augmentation`, `make_model` (Rescaling, the
Xception-like entry block, three SeparableConv2D / BatchNormalization / MaxPooling2D blocks with
1x1-convolution residuals, the 1024-wide exit, Dropout, a one-unit logit head for two classes),
compile with Adam(3e-4), BinaryCrossentropy(from_logits=True) and a BinaryAccuracy named "acc",
`fit` with a `ModelCheckpoint("save_at_{epoch}.keras")` and `validation_data`, and inference on
one image (`keras.ops.expand_dims`, `predict`, `keras.ops.sigmoid`). The evaluation from the
initial weights is kept in `History.results`.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    workdir = tempfile.mkdtemp()

    image_size = (32, 32)
    batch_size = 8
    x_train = rng.integers(0, 256, size=(16,) + image_size + (3,)).astype("float32")
    y_train = rng.integers(0, 2, size=(16,)).astype("float32")
    x_val = rng.integers(0, 256, size=(8,) + image_size + (3,)).astype("float32")
    y_val = rng.integers(0, 2, size=(8,)).astype("float32")

    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    augmented = keras.ops.convert_to_numpy(data_augmentation(x_train))
    assert augmented.shape == x_train.shape

    def make_model(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape)

        # Entry block
        x = layers.Rescaling(1.0 / 255)(inputs)
        x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        previous_block_activation = x  # Set aside residual

        for size in [256, 512, 728]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

            # Project residual
            residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        x = layers.SeparableConv2D(1024, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        x = layers.GlobalAveragePooling2D()(x)
        if num_classes == 2:
            units = 1
        else:
            units = num_classes

        x = layers.Dropout(0.25)(x)
        # We specify activation=None so as to return logits
        outputs = layers.Dense(units, activation=None)(x)
        return keras.Model(inputs, outputs)

    model = make_model(input_shape=image_size + (3,), num_classes=2)

    epochs = 2

    callbacks = [
        keras.callbacks.ModelCheckpoint(os.path.join(workdir, "save_at_{epoch}.keras")),
    ]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    on_model(model)
    initial = model.evaluate(x_val, y_val, batch_size=batch_size, verbose=0, return_dict=True)
    history = model.fit(
        augmented,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        validation_data=(x_val, y_val),
        verbose=0,
        shuffle=shuffle,
    )
    assert sorted(os.listdir(workdir)) == ["save_at_1.keras", "save_at_2.keras"]

    img_array = x_val[0]
    img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

    predictions = model.predict(img_array, verbose=0)
    score = float(keras.ops.sigmoid(predictions[0][0]))
    assert 0.0 <= score <= 1.0
    history.results = {"initial": initial}
    return history
