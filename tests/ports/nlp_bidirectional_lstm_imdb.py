"""Port of keras-io `examples/nlp/bidirectional_lstm_imdb.py` (Bidirectional LSTM on IMDB, fchollet).

Changed: data loading (`keras.datasets.imdb.load_data` -> synthetic ragged lists of word ids in
[1, 20000) of lengths 10-300 and 0/1 labels, seeded, 64 / 32 reviews; still padded by
`keras.preprocessing.sequence.pad_sequences(maxlen=200)`), epochs 2 -> 3, the library passed in
as `keras`. Model, compile and fit are the example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)

    max_features = 20000
    maxlen = 200

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.summary()

    def fake_reviews(n):
        return [list(rng.integers(1, max_features, size=int(rng.integers(10, 300)))) for _ in range(n)]

    x_train, y_train = fake_reviews(64), rng.integers(0, 2, size=(64,))
    x_val, y_val = fake_reviews(32), rng.integers(0, 2, size=(32,))
    x_train = keras.preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.preprocessing.sequence.pad_sequences(x_val, maxlen=maxlen)

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(x_train, y_train, batch_size=32, epochs=3, validation_data=(x_val, y_val), verbose=0)
