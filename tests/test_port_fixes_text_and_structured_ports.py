"""Keraslike bugs found porting keras-io's text, time-series, structured-data and RL examples,
each checked against Keras 3 (the oracle).

- Recurrent dropout masks are drawn as Keras draws them. Keras's RNN draws its cell's masks
  before every call, training or not (`RNN._maybe_config_dropout_masks`), so every `evaluate`,
  `predict` or validation batch moves the random stream on; keraslike drew them only in
  training, so a seeded `fit` with `validation_data` (the LSTM of
  `timeseries/lstm_vs_cnn_timeseries_classification`) trained on other masks from its second
  epoch. A cell's `seed=` was ignored (masks came from torch's global generator; Keras's from
  the cell's `SeedGenerator`), and GRU's per-gate masks (with `recurrent_dropout`) were taken in
  torch's gate order r, z, n where Keras draws them z, r, h.
- The data pipeline's `IntegerLookup` / `StringLookup` with `output_mode="binary"` give one
  multi-hot row per sample of an `(n, 1)` column (checked against NumPy: Keras 3's need
  TensorFlow, not installed here).
"""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _layer_output(lib, cls, **kwargs):
    """One training call of a recurrent layer with fixed weights, after `set_random_seed(1)`."""
    lib.utils.set_random_seed(1)
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype("float32")
    layer = getattr(lib.layers, cls)(6, **kwargs)
    layer.build((None, 5, 3))
    layer.set_weights([np.random.default_rng(i).normal(size=w.shape).astype("float32") * 0.3
                       for i, w in enumerate(layer.get_weights())])
    torch.manual_seed(123)
    return lib.ops.convert_to_numpy(layer(torch.tensor(x), training=True))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize(
    "kwargs",
    [dict(dropout=0.3, seed=8), dict(dropout=0.3, recurrent_dropout=0.2, seed=7),
     dict(dropout=0.3, recurrent_dropout=0.2)],
    ids=["seeded_dropout", "seeded_both", "global_both"],
)
def test_recurrent_dropout_masks_are_kerass(cls, kwargs):
    expected = _layer_output(keras, cls, **kwargs)
    np.testing.assert_allclose(_layer_output(keraslike, cls, **kwargs), expected, rtol=1e-5, atol=1e-6)


def test_gru_takes_kerass_gate_masks_before_reset():
    kwargs = dict(dropout=0.3, recurrent_dropout=0.2, reset_after=False)
    expected = _layer_output(keras, "GRU", **kwargs)
    np.testing.assert_allclose(_layer_output(keraslike, "GRU", **kwargs), expected, rtol=1e-5, atol=1e-6)


def _fit_with_validation(lib, make_rnn):
    lib.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6, 2)).astype("float32")
    y = rng.integers(0, 2, 48)
    model = lib.Sequential([lib.layers.Input((6, 2)), make_rnn(lib.layers),
                            lib.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.evaluate(x, y, verbose=0)  # an inference call before training draws masks too
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False,
                        validation_data=(x[:16], y[:16]))
    return history.history


@pytest.mark.parametrize(
    "make_rnn",
    [
        lambda L: L.LSTM(8, dropout=0.3, recurrent_dropout=0.3),
        lambda L: L.LSTM(8, dropout=0.3),  # the fused path
        lambda L: L.GRU(8, recurrent_dropout=0.3, seed=5),
        lambda L: L.RNN([L.LSTMCell(4, dropout=0.3, recurrent_dropout=0.2), L.GRUCell(4, dropout=0.2)]),
    ],
    ids=["lstm_both", "lstm_fused", "gru_seeded", "stacked_cells"],
)
def test_inference_calls_move_the_dropout_stream_as_kerass(make_rnn):
    expected = _fit_with_validation(keras, make_rnn)
    got = _fit_with_validation(keraslike, make_rnn)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_lookup_binary_output_is_one_multi_hot_row_per_sample():
    column = np.array([3, 0, 2, 3])[:, None]
    encoded = keraslike.layers.IntegerLookup(vocabulary=[0, 2, 3], mask_token=None, num_oov_indices=0,
                                             output_mode="binary")(column)
    np.testing.assert_array_equal(keraslike.ops.convert_to_numpy(encoded), np.eye(3)[[2, 0, 1, 2]])
    words = np.array(["normal", "fixed", "reversible"], dtype=object)[:, None]
    encoded = keraslike.layers.StringLookup(vocabulary=["fixed", "normal", "reversible"], mask_token=None,
                                            num_oov_indices=0, output_mode="binary")(words)
    np.testing.assert_array_equal(keraslike.ops.convert_to_numpy(encoded), np.eye(3)[[1, 0, 2]])


def _conv_lstm_output(lib, **kwargs):
    lib.utils.set_random_seed(1)
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 5, 2)).astype("float32")
    layer = lib.layers.ConvLSTM2D(3, 3, padding="same", **kwargs)
    layer.build((None, 3, 5, 5, 2))
    layer.set_weights([np.random.default_rng(i).normal(size=w.shape).astype("float32") * 0.3
                       for i, w in enumerate(layer.get_weights())])
    torch.manual_seed(123)
    layer(torch.tensor(x), training=False)  # Keras draws (and drops) masks here too
    return lib.ops.convert_to_numpy(layer(torch.tensor(x), training=True))


@pytest.mark.parametrize(
    "kwargs", [dict(recurrent_dropout=0.3), dict(dropout=0.2, recurrent_dropout=0.3, seed=4)],
    ids=["global", "seeded"],
)
def test_conv_lstm_dropout_masks_are_kerass(kwargs):
    # The recurrent masks are drawn in Keras's channels-last element order; a seed is used.
    expected = _conv_lstm_output(keras, **kwargs)
    np.testing.assert_allclose(_conv_lstm_output(keraslike, **kwargs), expected, rtol=1e-5, atol=1e-6)
