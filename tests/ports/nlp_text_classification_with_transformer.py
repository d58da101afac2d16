"""Port of keras-io `examples/nlp/text_classification_with_transformer.py` (Apoorv Nandan; Keras 3).

Changed: data loading (synthetic int token ids in [0, vocab_size) of shape (n, maxlen) and 0/1
labels, seeded, n=64 / 16 instead of IMDB's 25000 / 25000; `pad_sequences` kept on the
synthetic lists), maxlen 200 -> 20, vocab_size 20000 -> 100, epochs 2 -> 3, the library passed
in as `keras` (`from keras import ops, layers` -> `keras.ops`, `keras.layers`). The layers and
the model are the example's code.
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    ops = keras.ops
    layers = keras.layers
    rng = np.random.default_rng(0)

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [
                    layers.Dense(ff_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    vocab_size = 100
    maxlen = 20
    # Synthetic reviews of varied length (see header).
    x_train = [list(rng.integers(1, vocab_size, size=rng.integers(5, 30))) for _ in range(64)]
    x_val = [list(rng.integers(1, vocab_size, size=rng.integers(5, 30))) for _ in range(16)]
    y_train = rng.integers(0, 2, size=(64,))
    y_val = rng.integers(0, 2, size=(16,))
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    ff_dim = 32  # Hidden layer size in feed forward network inside transformer

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=3, validation_data=(x_val, y_val), verbose=0
    )
    return history
