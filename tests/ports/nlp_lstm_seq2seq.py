"""Port of keras-io `examples/nlp/lstm_seq2seq.py` (Character-level recurrent sequence-to-sequence).

Changed: data loading (fra-eng text file -> synthetic one-hot character sequences of the
example's shapes: encoder (n, 15, 71), decoder input/target (n, 59, 92) with the target the
input shifted by one step, seeded, n=64), epochs 100 -> 3, the saved model goes to a temporary
directory, decoding limited to one sequence of at most 10 characters, the library passed in as
`keras`. Training model, compile, fit, save/load and the inference models rebuilt from the
loaded model's layers are the example's.
"""

import os
import tempfile

import numpy as np


def run(keras):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History."""
    rng = np.random.default_rng(0)

    batch_size = 64
    epochs = 3
    latent_dim = 256
    num_samples = 64
    num_encoder_tokens, num_decoder_tokens = 71, 92
    max_encoder_seq_length, max_decoder_seq_length = 15, 59
    target_characters = ["\t", "\n"] + [chr(ord("!") + i) for i in range(num_decoder_tokens - 2)]
    target_token_index = dict([(char, i) for i, char in enumerate(target_characters)])

    encoder_input_data = np.zeros((num_samples, max_encoder_seq_length, num_encoder_tokens), dtype="float32")
    decoder_input_data = np.zeros((num_samples, max_decoder_seq_length, num_decoder_tokens), dtype="float32")
    decoder_target_data = np.zeros((num_samples, max_decoder_seq_length, num_decoder_tokens), dtype="float32")
    for i in range(num_samples):
        src = rng.integers(0, num_encoder_tokens, size=int(rng.integers(3, max_encoder_seq_length + 1)))
        encoder_input_data[i, np.arange(len(src)), src] = 1.0
        length = int(rng.integers(4, 20))
        tgt = np.concatenate([[0], rng.integers(2, num_decoder_tokens, size=length - 2), [1]])
        for t, char_index in enumerate(tgt):
            decoder_input_data[i, t, char_index] = 1.0
            if t > 0:
                decoder_target_data[i, t - 1, char_index] = 1.0

    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([encoder_input_data, decoder_input_data], decoder_target_data, batch_size=batch_size,
                        epochs=epochs, validation_split=0.2, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s2s_model.keras")
        model.save(path)

        # Restore the model and construct the encoder and decoder.
        model = keras.models.load_model(path)

    encoder_inputs = model.input[0]  # input_1
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]  # input_2
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states)

    reverse_target_char_index = dict((i, char) for char, i in target_token_index.items())

    def decode_sequence(input_seq):
        states_value = encoder_model.predict(input_seq, verbose=0)
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, target_token_index["\t"]] = 1.0
        stop_condition = False
        decoded_sentence = ""
        while not stop_condition:
            output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
            sampled_token_index = np.argmax(output_tokens[0, -1, :])
            sampled_char = reverse_target_char_index[sampled_token_index]
            decoded_sentence += sampled_char
            if sampled_char == "\n" or len(decoded_sentence) >= 10:
                stop_condition = True
            target_seq = np.zeros((1, 1, num_decoder_tokens))
            target_seq[0, 0, sampled_token_index] = 1.0
            states_value = [h, c]
        return decoded_sentence

    assert 1 <= len(decode_sequence(encoder_input_data[0:1])) <= 10
    return history
