"""Port of keras-io `examples/nlp/ner_transformers.py` (Named Entity Recognition using
Transformers, Varun Singh, Keras 3 edition).

Changed: data (the CoNLL 2003 download, StringLookup vocabulary and tf.data pipeline ->
synthetic token ids (n, 24) in 1..vocab_size-1 padded with 0 and tags 1..num_tags-1 on real
tokens, 0 on padding, seeded, n=64 / 16), vocab_size 20000 -> 200, epochs 10 -> 3,
batch_size 32 -> 16, `verbose=0`, the library passed in as `keras`. TransformerBlock,
TokenAndPositionEmbedding, NERModel (dropout driven by `training`), the
CustomNonPaddingTokenLoss (a `keras.losses.Loss` subclass masking padding), compile/fit and the
`calculate_metrics`-style masked accuracy from `predict` are the example's. Added checks:
`evaluate` from the initial weights (compared with Keras by the parity test) and the
predictions' shape.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the built model before it trains and `shuffle` goes to `fit`
    (the parity test copies Keras's initial weights in and compares `evaluate` there).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [
                    keras.layers.Dense(ff_dim, activation="relu"),
                    keras.layers.Dense(embed_dim),
                ]
            )
            self.layernorm1 = keras.layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = keras.layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = keras.layers.Dropout(rate)
            self.dropout2 = keras.layers.Dropout(rate)

        def call(self, inputs, training=False):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output, training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output, training=training)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = keras.layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = keras.layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, inputs):
            maxlen = ops.shape(inputs)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            position_embeddings = self.pos_emb(positions)
            token_embeddings = self.token_emb(inputs)
            return token_embeddings + position_embeddings

    class NERModel(keras.Model):
        def __init__(self, num_tags, vocab_size, maxlen=128, embed_dim=32, num_heads=2, ff_dim=32):
            super().__init__()
            self.embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
            self.transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
            self.dropout1 = layers.Dropout(0.1)
            self.ff = layers.Dense(ff_dim, activation="relu")
            self.dropout2 = layers.Dropout(0.1)
            self.ff_final = layers.Dense(num_tags, activation="softmax")

        def call(self, inputs, training=False):
            x = self.embedding_layer(inputs)
            x = self.transformer_block(x)
            x = self.dropout1(x, training=training)
            x = self.ff(x)
            x = self.dropout2(x, training=training)
            x = self.ff_final(x)
            return x

    num_tags = 10
    vocab_size = 200
    maxlen = 24

    def make_data(n):
        lengths = rng.integers(6, maxlen + 1, size=n)
        real = np.arange(maxlen)[None, :] < lengths[:, None]
        tokens = np.where(real, rng.integers(1, vocab_size, size=(n, maxlen)), 0).astype("int64")
        tags = np.where(real, 1 + tokens % (num_tags - 1), 0).astype("int64")
        return tokens, tags

    x_train, y_train = make_data(64)
    x_val, y_val = make_data(16)

    ner_model = NERModel(num_tags, vocab_size, maxlen=maxlen, embed_dim=32, num_heads=4, ff_dim=64)

    class CustomNonPaddingTokenLoss(keras.losses.Loss):
        def __init__(self, name="custom_ner_loss"):
            super().__init__(name=name)

        def call(self, y_true, y_pred):
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=False, reduction=None)
            loss = loss_fn(y_true, y_pred)
            mask = ops.cast((y_true > 0), dtype="float32")
            loss = loss * mask
            return ops.sum(loss) / ops.sum(mask)

    loss = CustomNonPaddingTokenLoss()
    ner_model.compile(optimizer="adam", loss=loss)
    results = {}
    if on_model:
        ner_model(x_train[:2])  # builds the subclassed model so that its weights exist
        on_model(ner_model)
        results["evaluate_before"] = ner_model.evaluate(x_val, y_val, batch_size=16, verbose=0, return_dict=True)
    history = ner_model.fit(x_train, y_train, epochs=3, batch_size=16, shuffle=shuffle, verbose=0)

    def calculate_metrics(x, y):
        all_true_tag_ids, all_predicted_tag_ids = [], []
        output = ner_model.predict(x, verbose=0)
        predictions = np.argmax(output, axis=-1)
        predictions = np.reshape(predictions, [-1])
        true_tag_ids = np.reshape(y, [-1])
        mask = (true_tag_ids > 0) & (predictions > 0)
        all_true_tag_ids.append(true_tag_ids[mask])
        all_predicted_tag_ids.append(predictions[mask])
        assert output.shape == (len(x), maxlen, num_tags), output.shape
        return np.concatenate(all_true_tag_ids), np.concatenate(all_predicted_tag_ids)

    true_ids, predicted_ids = calculate_metrics(x_val, y_val)
    assert true_ids.shape == predicted_ids.shape
    history.results = results
    return history
