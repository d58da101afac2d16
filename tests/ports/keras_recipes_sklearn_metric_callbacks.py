"""Port of keras-io `examples/keras_recipes/sklearn_metric_callbacks.py` (lukewood, Keras 3
edition).

Changed: data (`keras.datasets.mnist` -> seeded synthetic uint8 images (n, 28, 28) scaled to
[0, 1], labels 0-9, n=128 / 32), epochs 15 -> 2, batch size 128 -> 32, the TensorBoard writer
(`tf.summary`) -> a list of `(step, name, value)` records kept in `History.results`, the library
passed in as `keras`. Kept: `JaccardScoreCallback` (a `keras.metrics.Mean` reset and updated with
sklearn's per-class `jaccard_score` array of `model.predict`'s argmax on each epoch end, its
`result().numpy()` written out), the convnet, compile with `"categorical_crossentropy"` /
`"adam"` / `["accuracy"]` on `to_categorical` labels, and `fit` with `validation_split=0.1`.
"""

import numpy as np
from sklearn.metrics import jaccard_score


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    written = []

    class JaccardScoreCallback(keras.callbacks.Callback):
        """Computes the Jaccard score and logs the results to TensorBoard."""

        def __init__(self, name, x_test, y_test, log_dir):
            self.x_test = x_test
            self.y_test = y_test
            self.keras_metric = keras.metrics.Mean("jaccard_score")
            self.epoch = 0
            self.summary_writer = (log_dir, name)

        def on_epoch_end(self, batch, logs=None):
            self.epoch += 1
            self.keras_metric.reset_state()
            predictions = self.model.predict(self.x_test, verbose=0)
            jaccard_value = jaccard_score(
                np.argmax(predictions, axis=-1), self.y_test, average=None, zero_division=0.0
            )
            self.keras_metric.update_state(jaccard_value)
            self._write_metric(
                self.keras_metric.name, self.keras_metric.result().numpy().astype(float)
            )

        def _write_metric(self, name, value):
            written.append((self.epoch, name, float(value)))

    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    x_train = rng.integers(0, 256, size=(128, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, size=(128,))
    x_test = rng.integers(0, 256, size=(32, 28, 28)).astype("uint8")
    y_test = rng.integers(0, 10, size=(32,))

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)

    # Convert class vectors to binary class matrices.
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

    batch_size = 32
    epochs = 2

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    callbacks = [
        JaccardScoreCallback(model.name, x_test, np.argmax(y_test, axis=-1), "logs")
    ]
    on_model(model)
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.1,
        callbacks=callbacks,
        verbose=0,
        shuffle=shuffle,
    )
    assert [(step, name) for step, name, _ in written] == [(1, "jaccard_score"), (2, "jaccard_score")]
    assert all(0.0 <= value <= 1.0 for _, _, value in written)
    history.written = written
    return history
