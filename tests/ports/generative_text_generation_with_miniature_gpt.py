"""Port of keras-io `examples/generative/text_generation_with_miniature_gpt.py` (miniature GPT).

Changed: data loading (the IMDB text files, tf.data and TextVectorization -> synthetic int32
token ids (n, 81) in [0, 20000) split into inputs x = ids[:, :-1] and targets y = ids[:, 1:] as
the example's `prepare_lm_inputs_labels` does, seeded, n=32), epochs 25 -> 3, batch 128 -> 16,
the TextGenerator callback dropped (it decodes with the vectorizer's vocabulary), the library
passed in as `keras`. Mask, layers, model (two outputs, `loss=[loss_fn, None]`), compile and fit
are the example's (Keras 3 edition, `keras.ops`).
"""

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    def causal_attention_mask(batch_size, n_dest, n_src, dtype):
        i = ops.arange(n_dest)[:, None]
        j = ops.arange(n_src)
        m = i >= j - n_src + n_dest
        mask = ops.cast(m, dtype)
        mask = ops.reshape(mask, [1, n_dest, n_src])
        mult = ops.concatenate([ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], 0)
        return ops.tile(mask, mult)

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads, embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            input_shape = ops.shape(inputs)
            batch_size = input_shape[0]
            seq_len = input_shape[1]
            causal_mask = causal_attention_mask(batch_size, seq_len, seq_len, "bool")
            attention_output = self.att(inputs, inputs, attention_mask=causal_mask)
            attention_output = self.dropout1(attention_output)
            out1 = self.layernorm1(inputs + attention_output)
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
            positions = ops.arange(0, maxlen, 1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    vocab_size = 20000
    maxlen = 80
    embed_dim = 256
    num_heads = 2
    feed_forward_dim = 256

    def create_model():
        inputs = layers.Input(shape=(maxlen,), dtype="int32")
        embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
        x = embedding_layer(inputs)
        transformer_block = TransformerBlock(embed_dim, num_heads, feed_forward_dim)
        x = transformer_block(x)
        outputs = layers.Dense(vocab_size)(x)
        model = keras.Model(inputs=inputs, outputs=[outputs, x])
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile("adam", loss=[loss_fn, None])  # No loss and optimization based on word embeddings
        return model

    tokens = rng.integers(0, vocab_size, size=(32, maxlen + 1)).astype("int32")
    x = tokens[:, :-1]
    y = tokens[:, 1:]

    model = create_model()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    y_pred, _ = model.predict(x[:1], verbose=0)
    assert y_pred.shape == (1, maxlen, vocab_size)
    return history
