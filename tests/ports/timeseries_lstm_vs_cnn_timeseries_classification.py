"""Port of keras-io `examples/timeseries/lstm_vs_cnn_timeseries_classification.py`
(Timeseries Classification with LSTM and CNN Models, Georgios Sklavounakos).

Changed: data (the FordA TSV files -> seeded synthetic univariate series of the same kind:
z-normalized noise, the fault class carrying a sine component; 120 training and 40 test series
of 40 steps instead of 3601 / 1320 of 500, labels in {-1, 1} mapped to {0, 1} as in the
example), `np.random.permutation` -> the same call on a seeded generator, epochs 100 -> 6,
EarlyStopping's `patience` 20 -> 2 (so that it stops and restores within the shortened run),
the checkpoint files written to a temporary folder, plots and prints dropped, `verbose=1` ->
0, the library passed in as `keras`; `fit` takes `shuffle` (the example's default True).
Kept: both models unchanged (two LSTMs with `dropout` and `recurrent_dropout` 0.3; the 1D CNN
with BatchNormalization, MaxPooling1D, Dropout and GlobalAveragePooling1D), compile with
"adam", "sparse_categorical_crossentropy" and "sparse_categorical_accuracy", `fit` with
`validation_split=0.2`, `ModelCheckpoint(save_best_only=True, monitor="val_loss")` and
`EarlyStopping(monitor="val_loss", patience=..., restore_best_weights=True)`, and the best
checkpoint reloaded with `keras.models.load_model` and evaluated. Returned: the CNN's History
(the last model trained, as the example's plots read it); each model's evaluation from its
initial weights is in `History.results` (the parity test compares them); the LSTM's History,
the reloaded models' test scores and the number of epochs each ran are in
`History.after_training`.
"""

import os
import tempfile

import numpy as np


def _synthetic_forda(rng, n, length=40):
    y = rng.choice(np.array([-1, 1]), size=n)
    t = np.arange(length)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x = rng.normal(size=(n, length)) + (y[:, None] == 1) * 1.5 * np.sin(2 * np.pi * t / 10 + phase)
    x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return x.astype(np.float32), y.astype(int)


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the CNN's History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    results, after = {}, {}

    x_train, y_train = _synthetic_forda(rng, 120)
    x_test, y_test = _synthetic_forda(rng, 40)

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    # Standardize labels: map {-1, 1} to {0, 1}
    y_train = np.where(y_train == -1, 0, y_train)
    y_test = np.where(y_test == -1, 0, y_test)

    # Shuffle training data for validation split
    idx = rng.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    num_classes = len(np.unique(y_train))

    def build_lstm_model(input_shape, num_classes):
        """Build an LSTM-based model for timeseries classification."""
        model = keras.Sequential([
            layers.Input(shape=input_shape),
            layers.LSTM(64, return_sequences=True, dropout=0.3, recurrent_dropout=0.3),
            layers.LSTM(32, dropout=0.3, recurrent_dropout=0.3),
            layers.Dense(16, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ])
        return model

    def build_cnn_model(input_shape, num_classes):
        """Build a 1D CNN-based model for timeseries classification."""
        model = keras.Sequential([
            layers.Input(shape=input_shape),
            layers.Conv1D(filters=64, kernel_size=7, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(pool_size=2),
            layers.Dropout(0.3),
            layers.Conv1D(filters=128, kernel_size=5, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(pool_size=2),
            layers.Dropout(0.3),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ])
        return model

    input_shape = x_train.shape[1:]
    lstm_model = build_lstm_model(input_shape, num_classes)
    cnn_model = build_cnn_model(input_shape, num_classes)

    epochs = 6
    batch_size = 32
    folder = tempfile.mkdtemp()

    def train_model(model, model_name, x_train, y_train, x_test, y_test):
        """Train and evaluate a model, return history and test metrics."""
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=["sparse_categorical_accuracy"],
        )
        on_model(model)
        results[f"{model_name}_initial"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)

        path = os.path.join(folder, f"best_{model_name}_model.keras")
        history = model.fit(
            x_train,
            y_train,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=0.2,
            callbacks=[
                keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss"),
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
            ],
            verbose=0,
            shuffle=shuffle,
        )

        # Load best model for evaluation
        best_model = keras.models.load_model(path)
        test_loss, test_acc = best_model.evaluate(x_test, y_test, verbose=0)
        # The restored weights are the best checkpoint's: the model scores as the file does.
        after[model_name] = {"test_loss": test_loss, "test_acc": test_acc,
                             "restored_loss": model.evaluate(x_test, y_test, verbose=0)[0],
                             "epochs_run": len(history.history["loss"])}
        return history, test_acc, test_loss

    lstm_history, lstm_test_acc, lstm_test_loss = train_model(lstm_model, "LSTM", x_train, y_train, x_test, y_test)
    cnn_history, cnn_test_acc, cnn_test_loss = train_model(cnn_model, "CNN", x_train, y_train, x_test, y_test)

    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    after["lstm_history"] = lstm_history.history
    cnn_history.results = results
    cnn_history.after_training = after
    return cnn_history
