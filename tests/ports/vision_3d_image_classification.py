"""Port of keras-io `examples/vision/3D_image_classification.py` (3D image classification from
CT scans, Hasib Zunair, Keras 3 edition).

Changed: data (the MosMedData download, nibabel reading, scipy resizing and rotation
augmentation -> synthetic (n, 46, 46, 46) volumes in [0, 1] where the positive class holds a
brighter blob, seeded, n=12 / 4), the tf.data pipeline -> numpy arrays with the channel axis
added as the example's preprocessing does, volume size 128x128x64 -> 46x46x46 (the smallest
that keeps all four conv/pool blocks), filters 64/64/128/256/512 -> 4/4/8/8/16 (CPU test time),
epochs 100 -> 2, batch_size 2 kept, the checkpoint written to a temporary folder, plotting
dropped, the library passed in as `keras`. `get_model` (Conv3D, MaxPool3D,
BatchNormalization, GlobalAveragePooling3D, Dropout), the ExponentialDecay staircase schedule
in Adam, metrics=["acc"], ModelCheckpoint(`save_best_only`) to a `.keras` file,
EarlyStopping on `val_acc`, `load_weights` from that `.keras` file and the single-volume
`predict` are the example's. Added: `evaluate` from the copied initial weights in parity runs.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains (the parity test copies Keras's
    initial weights in and compares `evaluate` there); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    size = 46

    def scans(n):
        labels = np.arange(n) % 2
        volumes = rng.random((n, size, size, size)).astype("float32") * 0.5
        volumes[labels == 1, 15:30, 15:30, 15:30] += 0.5
        return np.expand_dims(volumes, axis=4), labels.astype("float32")

    x_train, y_train = scans(12)
    x_val, y_val = scans(4)

    def get_model(width=128, height=128, depth=64):
        """Build a 3D convolutional neural network model."""

        inputs = keras.Input((width, height, depth, 1))

        x = layers.Conv3D(filters=4, kernel_size=3, activation="relu")(inputs)
        x = layers.MaxPool3D(pool_size=2)(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv3D(filters=4, kernel_size=3, activation="relu")(x)
        x = layers.MaxPool3D(pool_size=2)(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv3D(filters=8, kernel_size=3, activation="relu")(x)
        x = layers.MaxPool3D(pool_size=2)(x)
        x = layers.BatchNormalization()(x)

        x = layers.Conv3D(filters=8, kernel_size=3, activation="relu")(x)
        x = layers.MaxPool3D(pool_size=2)(x)
        x = layers.BatchNormalization()(x)

        x = layers.GlobalAveragePooling3D()(x)
        x = layers.Dense(units=16, activation="relu")(x)
        x = layers.Dropout(0.3)(x)

        outputs = layers.Dense(units=1, activation="sigmoid")(x)

        # Define the model.
        model = keras.Model(inputs, outputs, name="3dcnn")
        return model

    # Build model.
    model = get_model(width=size, height=size, depth=size)
    model.summary(print_fn=lambda *a, **k: None)

    # Compile model.
    initial_learning_rate = 0.0001
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    model.compile(
        loss="binary_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=lr_schedule),
        metrics=["acc"],
    )

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "3d_image_classification.keras")
        # Define callbacks.
        checkpoint_cb = keras.callbacks.ModelCheckpoint(path, save_best_only=True)
        early_stopping_cb = keras.callbacks.EarlyStopping(monitor="val_acc", patience=15)

        if on_model:
            on_model(model)
            results["evaluate_before"] = model.evaluate(x_val, y_val, batch_size=2, verbose=0, return_dict=True)
        # Train the model, doing validation at the end of each epoch
        epochs = 2
        history = model.fit(
            x_train,
            y_train,
            batch_size=2,
            validation_data=(x_val, y_val),
            epochs=epochs,
            shuffle=shuffle,
            verbose=0,
            callbacks=[checkpoint_cb, early_stopping_cb],
        )

        # Load best weights.
        model.load_weights(path)
    prediction = model.predict(np.expand_dims(x_val[0], axis=0), verbose=0)[0]
    scores = [1 - prediction[0], prediction[0]]
    assert 0.0 <= scores[1] <= 1.0 and sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    history.results = results
    return history
