"""Port of keras-io `examples/timeseries/multivariate_timeseries_forecasting_using_lstm.py`
(Multivariate Time Series Forecasting using LSTM, Rohit Sahoo).

Changed: data (the GOOG stock CSV read by pandas -> a seeded synthetic daily price table of
400 rows with the five columns Open / High / Low / Close / Adj Close, a random walk with daily
spreads), the window length 60 -> 20, `batch_size` 62 -> 32, the LSTM widths 128 / 128 / 64 ->
32 / 32 / 16, epochs 50 -> 4, plots, prints and the pandas tables of the predictions dropped
(the inverse scaling is kept on NumPy arrays), `tf.keras.*` / `tf.losses` / `tf.optimizers` /
`tf.metrics` -> the library passed in as `keras`, `input_shape=` on the first LSTM -> an
`Input` layer (Keras 3's way). `tensorflow.keras.preprocessing.sequence.TimeseriesGenerator`
(not in Keras 3) -> `TimeseriesGenerator`, a `keras.utils.PyDataset` written here with the same
windows, targets, batches and length. Kept: sklearn's `StandardScaler` and unshuffled
`train_test_split`, the model (three stacked LSTMs with LeakyReLU(0.5) and Dropout(0.3), a
Dense(1) head), compile with `MeanSquaredError()`, `Adam()` and `MeanAbsoluteError()`, `fit`
on the generator with `validation_data` and `shuffle=False`, `evaluate` and `predict` on the
test generator. Added: an evaluation from the initial weights kept in `History.results` (the parity test
compares it); the test evaluation and the first predictions in `History.after_training`.
"""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def _synthetic_prices(rng, n=400):
    """Open / High / Low / Close / Adj Close of a random-walk stock, as the CSV's columns."""
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.5, n))
    open_ = close + rng.normal(0.0, 0.8, n)
    high = np.maximum(open_, close) + np.abs(rng.normal(0.0, 1.0, n))
    low = np.minimum(open_, close) - np.abs(rng.normal(0.0, 1.0, n))
    return np.stack([open_, high, low, close, close * 0.98], axis=1)


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` is not used (the
    example trains unshuffled).
    """
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    results = {}

    class TimeseriesGenerator(keras.utils.PyDataset):
        """The windows of `tf.keras.preprocessing.sequence.TimeseriesGenerator`."""

        def __init__(self, data, targets, length, sampling_rate=1, stride=1, batch_size=128, **kwargs):
            super().__init__(**kwargs)
            self.data, self.targets = data, targets
            self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
            self.batch_size = batch_size
            self.start_index, self.end_index = length, len(data) - 1

        def __len__(self):
            step = self.batch_size * self.stride
            return (self.end_index - self.start_index + step) // step

        def __getitem__(self, index):
            i = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(i, min(i + self.batch_size * self.stride, self.end_index + 1), self.stride)
            samples = np.array([self.data[row - self.length : row : self.sampling_rate] for row in rows])
            targets = np.array([self.targets[row] for row in rows])
            return samples, targets

    df_input = _synthetic_prices(rng)

    scaler = StandardScaler()
    data_scaled = scaler.fit_transform(df_input)

    features = data_scaled
    target = data_scaled[:, 0]  # Target Column - Open Price

    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.25, random_state=123, shuffle=False
    )

    win_length = 20  # window length
    batch_size = 32
    num_features = 5
    train_generator = TimeseriesGenerator(
        x_train, y_train, length=win_length, sampling_rate=1, batch_size=batch_size
    )
    test_generator = TimeseriesGenerator(
        x_test, y_test, length=win_length, sampling_rate=1, batch_size=batch_size
    )

    model = keras.Sequential()
    model.add(keras.Input(shape=(win_length, num_features)))
    model.add(keras.layers.LSTM(32, return_sequences=True))
    model.add(keras.layers.LeakyReLU(negative_slope=0.5))
    model.add(keras.layers.LSTM(32, return_sequences=True))
    model.add(keras.layers.LeakyReLU(negative_slope=0.5))
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.LSTM(16, return_sequences=False))
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Dense(1))

    model.compile(
        loss=keras.losses.MeanSquaredError(),
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.MeanAbsoluteError()],
    )
    on_model(model)
    results["initial"] = model.evaluate(test_generator, verbose=0, return_dict=True)

    history = model.fit(
        train_generator, epochs=4, validation_data=test_generator, shuffle=False, verbose=0
    )

    test_loss, test_mae = model.evaluate(test_generator, verbose=0)
    # After training (Dropout's draws differ between unseeded runs): kept apart from `results`.
    history.after_training = {"test": {"loss": test_loss, "mae": test_mae}}

    predictions = model.predict(test_generator, verbose=0)
    # Concatenate the predictions with the other test columns, then scale back.
    df_pred = np.concatenate([predictions, x_test[:, 1:][win_length:]], axis=1)
    in_trans = scaler.inverse_transform(df_pred)
    history.after_training["predicted_open"] = {"first": in_trans[:3, 0], "count": [predictions.shape[0]]}
    history.results = results
    return history
