"""Port of keras-io `examples/nlp/neural_machine_translation_with_transformer.py` (English-to-
Spanish translation with a sequence-to-sequence Transformer, fchollet, Keras 3 edition).

Changed: data (the spa-eng download and the two TextVectorization layers -> synthetic token-id
pairs: a "source" sentence of 3-8 ids and its "target", the reversed ids shifted by 2 between
start (1) and end (2) tokens, 0 padding, seeded, 64 / 16 pairs), vocab_size 15000 -> 40,
sequence_length 20 -> 10, embed_dim 256 -> 16, latent_dim 2048 -> 32, num_heads 8 -> 2,
batch_size 64 -> 16, epochs 1 -> 2, `verbose=0`, the tf.data pipeline -> numpy arrays in the
example's `({"encoder_inputs": ..., "decoder_inputs": ...}, targets)` structure, the decoding
loop's vectorization -> ids, the library passed in as `keras`. TransformerEncoder,
PositionalEmbedding (with `compute_mask`), TransformerDecoder (a layer called on two tensors,
causal mask built with `ops.tile` of a shape-derived multiples tensor), the encoder / decoder
/ transformer models (a nested decoder model called on a list), compile, fit and greedy
decoding with `ops.argmax` are the example's. Added: `evaluate` from the copied initial
weights in parity runs.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the transformer before it trains (the parity test copies
    Keras's initial weights in and compares `evaluate` there); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    vocab_size = 40
    sequence_length = 10
    batch_size = 16

    def pairs(n):
        source = np.zeros((n, sequence_length), "int64")
        target = np.zeros((n, sequence_length + 1), "int64")
        for k in range(n):
            length = rng.integers(3, 9)
            ids = rng.integers(3, vocab_size - 2, size=length)
            source[k, :length] = ids
            target[k, : length + 2] = np.concatenate([[1], ids[::-1] + 2, [2]])
        return source, target

    def format_dataset(eng, spa):
        return ({"encoder_inputs": eng, "decoder_inputs": spa[:, :-1]}, spa[:, 1:])

    train_x, train_y = format_dataset(*pairs(64))
    val_x, val_y = format_dataset(*pairs(16))

    class TransformerEncoder(layers.Layer):
        def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.dense_dim = dense_dim
            self.num_heads = num_heads
            self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential(
                [
                    layers.Dense(dense_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            if mask is not None:
                padding_mask = ops.cast(mask[:, None, :], dtype="int32")
            else:
                padding_mask = None

            attention_output = self.attention(query=inputs, value=inputs, key=inputs, attention_mask=padding_mask)
            proj_input = self.layernorm_1(inputs + attention_output)
            proj_output = self.dense_proj(proj_input)
            return self.layernorm_2(proj_input + proj_output)

        def get_config(self):
            config = super().get_config()
            config.update({"embed_dim": self.embed_dim, "dense_dim": self.dense_dim, "num_heads": self.num_heads})
            return config

    class PositionalEmbedding(layers.Layer):
        def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_embeddings = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.position_embeddings = layers.Embedding(input_dim=sequence_length, output_dim=embed_dim)
            self.sequence_length = sequence_length
            self.vocab_size = vocab_size
            self.embed_dim = embed_dim

        def call(self, inputs):
            length = ops.shape(inputs)[-1]
            positions = ops.arange(0, length, 1)
            embedded_tokens = self.token_embeddings(inputs)
            embedded_positions = self.position_embeddings(positions)
            return embedded_tokens + embedded_positions

        def compute_mask(self, inputs, mask=None):
            if mask is None:
                return None
            else:
                return ops.not_equal(inputs, 0)

        def get_config(self):
            config = super().get_config()
            config.update(
                {"sequence_length": self.sequence_length, "vocab_size": self.vocab_size, "embed_dim": self.embed_dim}
            )
            return config

    class TransformerDecoder(layers.Layer):
        def __init__(self, embed_dim, latent_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.latent_dim = latent_dim
            self.num_heads = num_heads
            self.attention_1 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.attention_2 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential(
                [
                    layers.Dense(latent_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.layernorm_3 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, encoder_outputs, mask=None):
            causal_mask = self.get_causal_attention_mask(inputs)
            if mask is not None:
                padding_mask = ops.cast(mask[:, None, :], dtype="int32")
                padding_mask = ops.minimum(padding_mask, causal_mask)
            else:
                padding_mask = None

            attention_output_1 = self.attention_1(query=inputs, value=inputs, key=inputs, attention_mask=causal_mask)
            out_1 = self.layernorm_1(inputs + attention_output_1)

            attention_output_2 = self.attention_2(
                query=out_1,
                value=encoder_outputs,
                key=encoder_outputs,
                attention_mask=padding_mask,
            )
            out_2 = self.layernorm_2(out_1 + attention_output_2)

            proj_output = self.dense_proj(out_2)
            return self.layernorm_3(out_2 + proj_output)

        def get_causal_attention_mask(self, inputs):
            input_shape = ops.shape(inputs)
            batch_size, sequence_length = input_shape[0], input_shape[1]
            i = ops.arange(sequence_length)[:, None]
            j = ops.arange(sequence_length)
            mask = ops.cast(i >= j, dtype="int32")
            mask = ops.reshape(mask, (1, input_shape[1], input_shape[1]))
            mult = ops.concatenate(
                [ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])],
                axis=0,
            )
            return ops.tile(mask, mult)

        def get_config(self):
            config = super().get_config()
            config.update({"embed_dim": self.embed_dim, "latent_dim": self.latent_dim, "num_heads": self.num_heads})
            return config

    embed_dim = 16
    latent_dim = 32
    num_heads = 2

    encoder_inputs = keras.Input(shape=(None,), dtype="int64", name="encoder_inputs")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(encoder_inputs)
    encoder_outputs = TransformerEncoder(embed_dim, latent_dim, num_heads)(x)
    encoder = keras.Model(encoder_inputs, encoder_outputs)

    decoder_inputs = keras.Input(shape=(None,), dtype="int64", name="decoder_inputs")
    encoded_seq_inputs = keras.Input(shape=(None, embed_dim), name="decoder_state_inputs")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim)(decoder_inputs)
    x = TransformerDecoder(embed_dim, latent_dim, num_heads)(x, encoded_seq_inputs)
    x = layers.Dropout(0.5)(x)
    decoder_outputs = layers.Dense(vocab_size, activation="softmax")(x)
    decoder = keras.Model([decoder_inputs, encoded_seq_inputs], decoder_outputs)

    decoder_outputs = decoder([decoder_inputs, encoder_outputs])
    transformer = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs, name="transformer")

    epochs = 2  # This should be at least 30 for convergence

    transformer.summary(print_fn=lambda *a, **k: None)
    transformer.compile("rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    results = {}
    if on_model:
        on_model(transformer)
        results["evaluate_before"] = transformer.evaluate(
            val_x, val_y, batch_size=batch_size, verbose=0, return_dict=True)
    history = transformer.fit(
        train_x, train_y, batch_size=batch_size, epochs=epochs, validation_data=(val_x, val_y),
        shuffle=shuffle, verbose=0)

    max_decoded_sentence_length = sequence_length

    def decode_sequence(tokenized_input_sentence):
        decoded = [1]  # "[start]"
        for i in range(max_decoded_sentence_length):
            tokenized_target_sentence = np.zeros((1, sequence_length), "int64")
            tokenized_target_sentence[0, : len(decoded)] = decoded[:sequence_length]
            predictions = transformer([tokenized_input_sentence, tokenized_target_sentence])
            # ops.argmax(predictions[0, i, :]) is not a concrete value for jax here
            sampled_token_index = ops.convert_to_numpy(ops.argmax(predictions[0, i, :])).item(0)
            decoded.append(sampled_token_index)
            if sampled_token_index == 2:  # "[end]"
                break
        return decoded

    decoded = decode_sequence(val_x["encoder_inputs"][:1])
    assert decoded[0] == 1 and 1 < len(decoded) <= max_decoded_sentence_length + 1, decoded
    history.results = results
    return history
