"""Port of keras-io `examples/nlp/text_generation_fnet.py` (Text Generation using FNet, Darshan
Deshpande).

Changed: data (the Cornell Movie Dialog download, its `TextVectorization` (Keras's needs
TensorFlow) and `tf.data` pipeline -> seeded synthetic token sequences `[start] w w ... [end]`
padded with 0 to MAX_LENGTH over a vocabulary `["", "[UNK]", "[start]", "[end]", "w4", ...]`;
64 training and 16 validation pairs, shaped by the example's `vectorize_text`: the decoder reads
the question padded by one and shifted, as the example's code does), VOCAB_SIZE 8192 -> 64,
MAX_LENGTH 40 -> 12, EMBED_DIM 256 -> 16, LATENT_DIM 512 -> 32, NUM_HEADS 8 -> 2, BATCH_SIZE
64 -> 8, epochs 1 -> 3, `decode_sentence` reads a token sequence (no tokenizer) and returns
its token ids, the library passed in as `keras`. TensorFlow calls -> `keras.ops`:
`tf.math.real(tf.signal.fft2d(tf.cast(x, complex64)))` -> the real part of
`ops.fft2((x, ops.zeros_like(x)))`, `tf.shape` / `tf.range` / `tf.cast` / `tf.math.not_equal` /
`tf.minimum` / `tf.reshape` / `tf.concat` / `tf.tile` / `tf.argmax` -> `ops.*`, `[:, tf.newaxis, :]`
-> `ops.expand_dims`, `super(Class, self)` -> `super()`; `FNetDecoder.call` sets `padding_mask = None`
when no mask is given, as the Keras 3 edition of the NMT example it was taken from does (Keras 3
fills `mask` only for a call with one tensor argument: the decoder, called on two, gets none,
and the TF-era code raised UnboundLocalError); the target dict `{"outputs": y}` -> `y`
(Keras 3.15 on torch fails on a dict target for this one-output model: "Invalid dtype: str224";
keraslike takes either). Kept: `FNetEncoder`,
`PositionalEmbedding` with `compute_mask`, `FNetDecoder` (causal mask combined with the padding
mask, two MultiHeadAttention layers), the nested encoder / decoder / fnet models (the decoder
model named "outputs", trained from dict inputs), compile with
"adam", "sparse_categorical_crossentropy" and "accuracy", `fit` with `validation_data`, and
the greedy decoding loop calling `fnet.predict` per token. Added: an evaluation from the
initial weights kept in `History.results` (the parity test compares it).
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)
    results = {}

    VOCAB_SIZE = 64
    MAX_LENGTH = 12
    EMBED_DIM = 16
    LATENT_DIM = 32
    NUM_HEADS = 2
    BATCH_SIZE = 8

    VOCAB = ["", "[UNK]", "[start]", "[end]"] + [f"w{i}" for i in range(4, VOCAB_SIZE)]
    start, end = VOCAB.index("[start]"), VOCAB.index("[end]")

    def vectorized_sentences(n):
        tokens = np.zeros((n, MAX_LENGTH), dtype="int64")
        for row in tokens:
            length = rng.integers(2, MAX_LENGTH - 2)
            row[: length + 2] = [start, *rng.integers(4, VOCAB_SIZE, size=length), end]
        return tokens

    def vectorize_text(inputs, outputs):
        # One extra padding token to the right to match the output shape
        outputs = np.pad(inputs, [[0, 0], [0, 1]])
        return (
            {"encoder_inputs": inputs, "decoder_inputs": outputs[:, :-1]},
            outputs[:, 1:],
        )

    questions, answers = vectorized_sentences(80), vectorized_sentences(80)
    train_x, train_y = vectorize_text(questions[:64], answers[:64])
    val_x, val_y = vectorize_text(questions[64:], answers[64:])

    class FNetEncoder(layers.Layer):
        def __init__(self, embed_dim, dense_dim, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.dense_dim = dense_dim
            self.dense_proj = keras.Sequential(
                [
                    layers.Dense(dense_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()

        def call(self, inputs):
            # Projecting the inputs to the frequency domain using FFT2D and
            # extracting the real part of the output
            fft = ops.fft2((inputs, ops.zeros_like(inputs)))[0]
            proj_input = self.layernorm_1(inputs + fft)
            proj_output = self.dense_proj(proj_input)
            return self.layernorm_2(proj_input + proj_output)

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
            return ops.not_equal(inputs, 0)

    class FNetDecoder(layers.Layer):
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
                padding_mask = ops.cast(ops.expand_dims(mask, 1), dtype="int32")
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
            i = ops.expand_dims(ops.arange(sequence_length), 1)
            j = ops.arange(sequence_length)
            mask = ops.cast(i >= j, dtype="int32")
            mask = ops.reshape(mask, (1, input_shape[1], input_shape[1]))
            mult = ops.concatenate(
                [ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1], dtype="int32")],
                axis=0,
            )
            return ops.tile(mask, mult)

    def create_model():
        encoder_inputs = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
        x = PositionalEmbedding(MAX_LENGTH, VOCAB_SIZE, EMBED_DIM)(encoder_inputs)
        encoder_outputs = FNetEncoder(EMBED_DIM, LATENT_DIM)(x)
        encoder = keras.Model(encoder_inputs, encoder_outputs)
        decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
        encoded_seq_inputs = keras.Input(shape=(None, EMBED_DIM), name="decoder_state_inputs")
        x = PositionalEmbedding(MAX_LENGTH, VOCAB_SIZE, EMBED_DIM)(decoder_inputs)
        x = FNetDecoder(EMBED_DIM, LATENT_DIM, NUM_HEADS)(x, encoded_seq_inputs)
        x = layers.Dropout(0.5)(x)
        decoder_outputs = layers.Dense(VOCAB_SIZE, activation="softmax")(x)
        decoder = keras.Model([decoder_inputs, encoded_seq_inputs], decoder_outputs, name="outputs")
        decoder_outputs = decoder([decoder_inputs, encoder_outputs])
        fnet = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs, name="fnet")
        return fnet

    fnet = create_model()
    fnet.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    on_model(fnet)
    results["initial"] = fnet.evaluate(val_x, val_y, batch_size=BATCH_SIZE, verbose=0, return_dict=True)

    history = fnet.fit(
        train_x,
        train_y,
        batch_size=BATCH_SIZE,
        epochs=3,
        validation_data=(val_x, val_y),
        verbose=0,
        shuffle=shuffle,
    )

    def decode_sentence(tokenized_input_sentence):
        # Initializing the initial sentence consisting of only the start token.
        tokenized_target_sentence = np.array([start])
        decoded_sentence = []

        for i in range(MAX_LENGTH):
            # Get the predictions
            predictions = fnet.predict(
                {
                    "encoder_inputs": np.expand_dims(tokenized_input_sentence, 0),
                    "decoder_inputs": np.expand_dims(
                        np.pad(
                            tokenized_target_sentence,
                            [[0, MAX_LENGTH - tokenized_target_sentence.shape[0]]],
                        ),
                        0,
                    ),
                },
                verbose=0,
            )
            # Calculating the token with maximum probability and getting the corresponding word
            sampled_token_index = int(ops.convert_to_numpy(ops.argmax(predictions[0, i, :])))
            # If sampled token is the end token then stop generating and return the sentence
            if sampled_token_index == end or tokenized_target_sentence.shape[0] == MAX_LENGTH:
                break
            decoded_sentence.append(sampled_token_index)
            tokenized_target_sentence = np.concatenate([tokenized_target_sentence, [sampled_token_index]], 0)

        return decoded_sentence

    decoded = decode_sentence(val_x["encoder_inputs"][0])
    assert all(0 <= t < VOCAB_SIZE for t in decoded)
    history.decoded = decoded
    history.results = results
    return history
