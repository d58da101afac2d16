"""Port of keras-io `examples/timeseries/timeseries_classification_from_scratch.py` (hfawaz).

Changed: data loading (synthetic z-normalized float series of FordA's length 176 and labels in
{-1, 1}, seeded, n=96 / 32 instead of the downloaded 3601 / 1320), epochs 500 -> 4, plotting
and `plot_model` removed, the checkpoint written as `best_model.keras` (the Keras 3 edition of
the example; the stored copy read `best_model.h5`) into a temporary folder, `accuracy_score`
from sklearn replaced by its numpy one-liner, the library passed in as `keras`. The model,
callbacks, compile, fit, load_model and predict are the example's code.
"""

import os
import tempfile

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    rng = np.random.default_rng(0)
    x_train = rng.standard_normal((96, 176))
    y_train = rng.choice([-1, 1], size=(96,))
    x_test = rng.standard_normal((32, 176))
    y_test = rng.choice([-1, 1], size=(32,))

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    num_classes = len(np.unique(y_train))

    idx = rng.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def make_model(input_shape):
        input_layer = keras.layers.Input(input_shape)

        conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
        conv1 = keras.layers.BatchNormalization()(conv1)
        conv1 = keras.layers.ReLU()(conv1)

        conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
        conv2 = keras.layers.BatchNormalization()(conv2)
        conv2 = keras.layers.ReLU()(conv2)

        conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
        conv3 = keras.layers.BatchNormalization()(conv3)
        conv3 = keras.layers.ReLU()(conv3)

        gap = keras.layers.GlobalAveragePooling1D()(conv3)

        output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

        return keras.models.Model(inputs=input_layer, outputs=output_layer)

    model = make_model(input_shape=x_train.shape[1:])

    epochs = 4
    batch_size = 32
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "best_model.keras")
        callbacks = [
            keras.callbacks.ModelCheckpoint(checkpoint, save_best_only=True, monitor="val_loss"),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
        ]
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        history = model.fit(
            x_train,
            y_train,
            batch_size=batch_size,
            epochs=epochs,
            callbacks=callbacks,
            validation_split=0.2,
            verbose=0,
        )

        model = keras.models.load_model(checkpoint)

    y_pred = model.predict(x_test, verbose=0).argmax(axis=1)
    print("Test accuracy", np.mean(y_pred == y_test))
    return history
