"""Port of keras-io `examples/timeseries/timeseries_forecasting_with_lstm_for_temperature_prediction.py`
(Timeseries forecasting with LSTM for temperature prediction, Falak Shah).

Changed: data (the Austin weather CSV read by pandas -> a seeded synthetic daily table over
2014-2017 with the columns the example reads: the average temperature (a seasonal cycle plus
noise), month and day; 2014-2015 train, 2017 validates), epochs 200 -> 6, plots, prints and
`model.summary()` dropped, `tensorflow.keras` -> the library passed in as `keras`.
`tf.keras.preprocessing.timeseries_dataset_from_array` (a `tf.data` pipeline; Keras 3's needs
TensorFlow, not installed here) -> `_windows`, the same windows and targets as NumPy arrays
(window `i` is rows `i .. i + 9`, its target `targets[i]`; the example's targets are the
temperature shifted by 10 days), its batches (128 for training, all validation windows in one
batch) -> `fit(batch_size=128, shuffle=False)` (the dataset is not shuffled) and
`validation_batch_size`. Kept: the features (temperature, month, day) and the 10-day shift,
the model (`Input((10, 3))`, `LSTM(20, return_sequences=False)`, `Dense(1)`), compile with
`Adam(learning_rate=0.01)` and "mse", `fit` with `validation_data`, and `predict` on the
validation windows. Added: an evaluation from the initial weights kept in `History.results`
(the parity test compares it).
"""

import numpy as np


def _windows(data, targets, sequence_length):
    """`timeseries_dataset_from_array(data, targets, sequence_length)`'s samples, unbatched."""
    count = len(data) - sequence_length + 1
    samples = np.stack([data[i : i + sequence_length] for i in range(count)])
    return samples, targets[:count]


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` is not used (the
    example's dataset is not shuffled).
    """
    layers = keras.layers
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)

    # Daily rows over 2014-2017: year, month, day and a seasonal average temperature (F).
    dates = np.arange(np.datetime64("2014-01-01"), np.datetime64("2017-12-31"))
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int)
    temp = 70 - 18 * np.cos(2 * np.pi * (day_of_year - 15) / 365) + rng.normal(0, 4, len(dates))

    # Target: the temperature 10 days later; rows without one are dropped (`dropna`).
    target = np.concatenate([temp[10:], np.full(10, np.nan)])
    keep = ~np.isnan(target)
    features = np.stack([temp, months, days], axis=1)[keep].astype("float64")
    target, years = target[keep], years[keep]

    # Train and validation split
    X_train, y_train = features[years < 2016], target[years < 2016]
    X_validation, y_validation = features[years > 2016], target[years > 2016]

    inputs, targets = _windows(X_train, y_train, sequence_length=10)
    val_inputs, val_targets = _windows(X_validation, y_validation, sequence_length=10)

    model = keras.Sequential(
        [
            layers.Input(shape=(inputs.shape[1], inputs.shape[2])),
            # Uncomment below line if you want to use intermediate layers.
            # layers.LSTM(20, return_sequences=True),
            layers.LSTM(20, return_sequences=False),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    on_model(model)
    results = {"initial": model.evaluate(val_inputs, val_targets, batch_size=len(val_inputs),
                                         verbose=0, return_dict=True)}

    history = model.fit(
        inputs, targets, batch_size=128, epochs=6, shuffle=False, verbose=0,
        validation_data=(val_inputs, val_targets), validation_batch_size=len(val_inputs),
    )

    output_validation = model.predict(val_inputs, verbose=0)
    results["predictions"] = {"first": output_validation[:5, 0]}
    history.results = results
    return history
