"""Port of keras-io `examples/nlp/pretrained_word_embeddings.py` (frozen GloVe embeddings, Conv1D).

Changed: data loading (Newsgroup20 texts, TextVectorization and the GloVe file -> synthetic
int token ids of the vectorizer's output shape (n, 200) in [0, 20002), labels of 20 classes and a
random float embedding matrix (20002, 100) standing for the GloVe one, seeded, n=96 / 32),
epochs 20 -> 3, batch_size 128 -> 32, the library passed in as `keras`. The frozen Embedding
loaded with `set_weights` (as in the Keras 3 edition), model, compile and fit are the example's.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    rng = np.random.default_rng(0)

    class_names = [f"class_{i}" for i in range(20)]
    num_tokens = 20000 + 2
    embedding_dim = 100
    embedding_matrix = rng.standard_normal((num_tokens, embedding_dim)).astype("float32") * 0.5
    embedding_matrix[0] = 0.0

    x_train = rng.integers(0, num_tokens, size=(96, 200))
    x_val = rng.integers(0, num_tokens, size=(32, 200))
    y_train = rng.integers(0, 20, size=(96,))
    y_val = rng.integers(0, 20, size=(32,))

    embedding_layer = layers.Embedding(
        num_tokens,
        embedding_dim,
        trainable=False,
    )
    embedding_layer.build((1,))
    embedding_layer.set_weights([embedding_matrix])

    int_sequences_input = keras.Input(shape=(None,), dtype="int32")
    embedded_sequences = embedding_layer(int_sequences_input)
    x = layers.Conv1D(128, 5, activation="relu")(embedded_sequences)
    x = layers.MaxPooling1D(5)(x)
    x = layers.Conv1D(128, 5, activation="relu")(x)
    x = layers.MaxPooling1D(5)(x)
    x = layers.Conv1D(128, 5, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    preds = layers.Dense(len(class_names), activation="softmax")(x)
    model = keras.Model(int_sequences_input, preds)
    model.summary()

    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["acc"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=3, validation_data=(x_val, y_val), verbose=0)
    np.testing.assert_array_equal(embedding_layer.get_weights()[0], embedding_matrix)
    return history
