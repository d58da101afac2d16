"""The timeseries_weather_forecasting port's loss gap against Keras is initialization only.

Its final loss differs from Keras's run because the two libraries draw different initial
weights (same initializers: glorot_uniform kernel, orthogonal recurrent kernel, unit forget
bias). With Keras's initial weights copied in, the example's model trains the same numbers.
"""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _windows(rng, n):
    t = rng.uniform(0, 100, size=(n, 1, 1)) + np.arange(120)[None, :, None] * 0.05
    x = np.sin(t + np.arange(7)[None, None, :]) + 0.1 * rng.standard_normal((n, 120, 7))
    return x.astype("float32"), np.sin(t[:, -1, :] + 0.6).astype("float32")


def _model(lib):
    inputs = lib.layers.Input(shape=(120, 7))
    model = lib.Model(inputs, lib.layers.Dense(1)(lib.layers.LSTM(32)(inputs)))
    model.compile(optimizer=lib.optimizers.Adam(learning_rate=0.001), loss="mse")
    return model


@pytest.mark.slow
def test_weather_model_trains_like_keras_from_the_same_weights():
    rng = np.random.default_rng(0)
    (x, y), (xv, yv) = _windows(rng, 96), _windows(rng, 32)
    theirs, ours = _model(keras), _model(keraslike)
    ours.set_weights([keras.ops.convert_to_numpy(w) for w in theirs.get_weights()])
    fit = dict(batch_size=256, epochs=3, validation_data=(xv, yv), verbose=0, shuffle=False)
    expected, result = theirs.fit(x, y, **fit).history, ours.fit(x, y, **fit).history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(result[key], expected[key], rtol=1e-5)
