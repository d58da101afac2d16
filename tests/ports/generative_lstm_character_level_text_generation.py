"""Port of keras-io `examples/generative/lstm_character_level_text_generation.py` (char LSTM).

Changed: data loading (the Nietzsche text download -> a synthetic seeded text of 1,200
characters drawn from 8 words; the example's `chars`, sentence cutting (maxlen 40, step 3)
and bool one-hot vectorization are kept), the 40 one-epoch generations -> one fit of 3 epochs
(returning its History) followed by one short generation of 20 characters at one diversity,
the library passed in as `keras`. Model, optimizer, compile and `sample` are the example's.
"""

import random

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)
    random.seed(0)

    words = ["the ", "will ", "to ", "power, ", "of ", "truth. ", "and ", "morality\n"]
    text = "".join(rng.choice(words, size=300))[:1200]

    chars = sorted(list(set(text)))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    indices_char = dict((i, c) for i, c in enumerate(chars))

    maxlen = 40
    step = 3
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i : i + maxlen])
        next_chars.append(text[i + maxlen])

    x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
    y = np.zeros((len(sentences), len(chars)), dtype="bool")
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, len(chars))),
            layers.LSTM(128),
            layers.Dense(len(chars), activation="softmax"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    def sample(preds, temperature=1.0):
        # helper function to sample an index from a probability array
        preds = np.asarray(preds).astype("float64")
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = np.random.multinomial(1, preds, 1)
        return np.argmax(probas)

    batch_size = 128
    history = model.fit(x, y, batch_size=batch_size, epochs=3, verbose=0)

    start_index = random.randint(0, len(text) - maxlen - 1)
    diversity = 0.5
    generated = ""
    sentence = text[start_index : start_index + maxlen]
    for i in range(20):
        x_pred = np.zeros((1, maxlen, len(chars)))
        for t, char in enumerate(sentence):
            x_pred[0, t, char_indices[char]] = 1.0
        preds = model.predict(x_pred, verbose=0)[0]
        next_index = sample(preds, diversity)
        next_char = indices_char[next_index]
        sentence = sentence[1:] + next_char
        generated += next_char
    assert len(generated) == 20
    return history
