"""Port of keras-io `examples/timeseries/timeseries_weather_forecasting.py` (Jena climate, LSTM).

Changed: data loading (the Jena climate CSV and `timeseries_dataset_from_array` -> synthetic
normalized windows of the example's shapes: inputs (n, 120, 7) float32 (past 720 steps sampled
every 6) and targets (n, 1), seeded, n=96 / 32, fed as arrays with the example's batch size),
epochs 10 -> 3, the checkpoint goes to a temporary directory, plotting dropped, the library
passed in as `keras`. Model, compile, callbacks and fit are the example's.
"""

import os
import tempfile

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    rng = np.random.default_rng(0)
    learning_rate = 0.001
    batch_size = 256
    epochs = 3

    def fake_windows(n):
        t = rng.uniform(0, 100, size=(n, 1, 1)) + np.arange(120)[None, :, None] * 0.05
        x = np.sin(t + np.arange(7)[None, None, :]) + 0.1 * rng.standard_normal((n, 120, 7))
        y = np.sin(t[:, -1, :] + 0.05 * 12)
        return x.astype("float32"), y.astype("float32")

    inputs_train, targets_train = fake_windows(96)
    inputs_val, targets_val = fake_windows(32)

    inputs = keras.layers.Input(shape=(inputs_train.shape[1], inputs_train.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    model.summary()

    with tempfile.TemporaryDirectory() as tmp:
        path_checkpoint = os.path.join(tmp, "model_checkpoint.weights.h5")
        es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
        modelckpt_callback = keras.callbacks.ModelCheckpoint(
            monitor="val_loss",
            filepath=path_checkpoint,
            verbose=0,
            save_weights_only=True,
            save_best_only=True,
        )
        history = model.fit(
            inputs_train,
            targets_train,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=(inputs_val, targets_val),
            callbacks=[es_callback, modelckpt_callback],
            verbose=0,
        )
        assert os.path.exists(path_checkpoint)
    prediction = model.predict(inputs_val[:5], verbose=0)
    assert prediction.shape == (5, 1)
    return history
