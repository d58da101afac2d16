"""Port of keras-io `examples/nlp/multi_label_classification.py` (shallow MLP on TF-IDF vectors).

Changed: data loading (the arXiv abstracts CSV, StringLookup(output_mode="multi_hot") of the
terms and TextVectorization(output_mode="tf_idf") -> synthetic float32 TF-IDF-like vectors
(n, 2000) and multi-hot float32 label vectors (n, 150) tied to them, seeded, n=128 / 32),
epochs 20 -> 3, plotting dropped, the library passed in as `keras`. `make_model` (a Sequential
without an Input, built on first data), compile and fit are the example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)

    vocabulary_size = 150  # lookup.vocabulary_size()
    num_features = 2000
    epochs = 3
    projection = rng.standard_normal((num_features, vocabulary_size))

    def fake_abstracts(n):
        tfidf = rng.random((n, num_features)) * (rng.random((n, num_features)) < 0.05) * 5.0
        labels = (tfidf @ projection > 6.0).astype("float32")
        return tfidf.astype("float32"), labels

    x_train, y_train = fake_abstracts(128)
    x_val, y_val = fake_abstracts(32)

    def make_model():
        shallow_mlp_model = keras.Sequential(
            [
                layers.Dense(512, activation="relu"),
                layers.Dense(256, activation="relu"),
                layers.Dense(vocabulary_size, activation="sigmoid"),
            ]  # More on why "sigmoid" has been used here in a moment.
        )
        return shallow_mlp_model

    shallow_mlp_model = make_model()
    shallow_mlp_model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["binary_accuracy"])

    history = shallow_mlp_model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, verbose=0)
    _, binary_acc = shallow_mlp_model.evaluate(x_val, y_val, verbose=0)
    assert 0.0 <= binary_acc <= 1.0
    return history
