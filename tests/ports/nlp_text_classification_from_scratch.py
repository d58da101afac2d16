"""Port of keras-io `examples/nlp/text_classification_from_scratch.py` (Conv1D on IMDB, fchollet).

Changed: data loading (the IMDB text directory, `text_dataset_from_directory` and the
TextVectorization step -> synthetic int64 token ids of the vectorizer's output shape (n, 500) in
[0, 20000) and 0/1 labels, seeded, n=96 / 32), the end-to-end string model dropped (it needs
the TextVectorization of strings), the library passed in as `keras`. Model, compile and fit
(3 epochs, as in the example) are the example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)

    max_features = 20000
    embedding_dim = 128
    sequence_length = 500

    x_train = rng.integers(0, max_features, size=(96, sequence_length)).astype("int64")
    y_train = rng.integers(0, 2, size=(96,))
    x_val = rng.integers(0, max_features, size=(32, sequence_length)).astype("int64")
    y_val = rng.integers(0, 2, size=(32,))

    # A integer input for vocab indices.
    inputs = keras.Input(shape=(None,), dtype="int64")

    # Next, we add a layer to map those vocab indices into a space of dimensionality
    # 'embedding_dim'.
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)

    # Conv1D + global max pooling
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)

    # We add a vanilla hidden layer:
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)

    # We project onto a single unit output layer, and squash it with a sigmoid:
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

    model = keras.Model(inputs, predictions)

    # Compile the model with binary crossentropy loss and an adam optimizer.
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    epochs = 3
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, verbose=0)
    model.evaluate(x_val, y_val, verbose=0)
    return history
