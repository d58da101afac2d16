"""Port of keras-io `guides/working_with_rnns.py` (Working with RNNs, Scott Zhu and fchollet,
Keras 3 edition).

Changed: data (the guide's random arrays and MNIST -> seeded synthetic arrays of the same
shapes, n=64; the classifier's labels derived from its inputs so that it can learn),
unit sizes 64 / 128 -> 8 / 16, epochs 1 -> 3 and batch_size 64 -> 4 for the classifier (its SGD needs the steps), `verbose=0`, prints -> asserts,
the cuDNN timing comparison reduced to building both variants and checking they compute the
same outputs from the same weights, the library passed in as `keras`. Kept: LSTM / GRU /
SimpleRNN Sequential models, an encoder-decoder with `return_state` and `initial_state`, a
stateful LSTM fed paragraph by paragraph with `reset_states`, state reuse through
`lstm_layer.states`, Bidirectional, `keras.layers.RNN(LSTMCell)` vs `LSTM` (trained with `fit`). Dropped: the NestedCell section
(a custom cell over nested inputs): on Keras 3.15.1 `keras.layers.RNN` builds the cell with the
first input's shape only, so the guide's `build` fails with an IndexError there, and the same
way on keraslike.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the LSTM classifier's History.

    `on_model(model)` is called on each model before it trains or predicts for comparison (the
    parity test copies Keras's initial weights in); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    model = keras.Sequential()
    # Add an Embedding layer expecting input vocab of size 1000, and
    # output embedding dimension of size 64.
    model.add(layers.Embedding(input_dim=1000, output_dim=8))
    # Add a LSTM layer with 128 internal units.
    model.add(layers.LSTM(16))
    # Add a Dense layer with 10 units.
    model.add(layers.Dense(10))
    model.build((None, 5))
    on_model(model)
    results["lstm_model"] = {"out": model.predict(rng.integers(0, 1000, size=(4, 5)), verbose=0).ravel()}

    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=8))
    # The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
    model.add(layers.GRU(16, return_sequences=True))
    # The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
    model.add(layers.SimpleRNN(16))
    model.add(layers.Dense(10))
    model.build((None, 5))
    on_model(model)
    results["gru_model"] = {"out": model.predict(rng.integers(0, 1000, size=(4, 5)), verbose=0).ravel()}

    encoder_vocab = 1000
    decoder_vocab = 2000

    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=8)(encoder_input)

    # Return states in addition to output
    output, state_h, state_c = layers.LSTM(8, return_state=True, name="encoder")(encoder_embedded)
    encoder_state = [state_h, state_c]

    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=8)(decoder_input)

    # Pass the 2 states to a new LSTM layer, as initial state
    decoder_output = layers.LSTM(8, name="decoder")(decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(10)(decoder_output)

    model = keras.Model([encoder_input, decoder_input], output)
    on_model(model)
    out = model.predict([rng.integers(0, encoder_vocab, size=(4, 6)), rng.integers(0, decoder_vocab, size=(4, 3))],
                        verbose=0)
    results["encoder_decoder"] = {"out": out.ravel()}

    paragraph1 = rng.random((20, 10, 50)).astype(np.float32)
    paragraph2 = rng.random((20, 10, 50)).astype(np.float32)
    paragraph3 = rng.random((20, 10, 50)).astype(np.float32)

    lstm_layer = layers.LSTM(8, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)
    # reset_states() will reset the cached state to the original initial_state.
    # If no initial_state was provided, zero-states will be used by default.
    lstm_layer.reset_states()
    fresh = layers.LSTM(8)
    fresh(paragraph1)
    fresh.set_weights(lstm_layer.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(lstm_layer(paragraph1)), ops.convert_to_numpy(fresh(paragraph1)),
                               rtol=1e-5, atol=1e-6)

    lstm_layer = layers.LSTM(8, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)

    existing_state = lstm_layer.states

    new_lstm_layer = layers.LSTM(8)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
    assert tuple(new_output.shape) == (20, 8)

    model = keras.Sequential()
    model.add(keras.Input(shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(8, return_sequences=True)))
    model.add(layers.Bidirectional(layers.LSTM(4)))
    model.add(layers.Dense(10))
    model.summary(print_fn=lambda *a, **k: None)
    on_model(model)
    results["bidirectional"] = {"out": model.predict(rng.random((4, 5, 10)).astype("float32"), verbose=0).ravel()}

    batch_size = 4
    # Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
    # Each input sequence will be of size (28, 28) (height is treated like time).
    input_dim = 28

    units = 8
    output_size = 10  # labels are from 0 to 9

    # Build the RNN model
    def build_model(allow_cudnn_kernel=True):
        # CuDNN is only available at the layer level, and not at the cell level.
        # This means `LSTM(units)` will use the CuDNN kernel,
        # while RNN(LSTMCell(units)) will run on non-CuDNN kernel.
        if allow_cudnn_kernel:
            # The LSTM layer with default options uses CuDNN.
            lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
        else:
            # Wrapping a LSTMCell in a RNN layer will not use CuDNN.
            lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units), input_shape=(None, input_dim))
        model = keras.models.Sequential(
            [
                lstm_layer,
                keras.layers.BatchNormalization(),
                keras.layers.Dense(output_size),
            ]
        )
        return model

    x_train = rng.random((64, 28, 28)).astype("float32")
    y_train = x_train[:, :, :10].mean(axis=1).argmax(axis=1)  # labels the LSTM can learn
    model = build_model(allow_cudnn_kernel=True)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    on_model(model)
    history = model.fit(x_train, y_train, validation_data=(x_train[:16], y_train[:16]),
                        batch_size=batch_size, epochs=3, shuffle=shuffle, verbose=0)
    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    np.testing.assert_allclose(noncudnn_model.predict(x_train[:8], verbose=0), model.predict(x_train[:8], verbose=0),
                               rtol=1e-4, atol=1e-5)

    history.results = results
    return history
