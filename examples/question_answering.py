"""Seed 004, "Multi-input model": a two-input question-answering model (Embedding + LSTM).

A text and a question, each a variable-length sequence of word indices, are embedded and encoded
by their own LSTM; the two encodings are concatenated and a softmax picks one of 500 answers.
The model trains from a list of arrays and from a dict keyed by the (named) inputs.

Fixes to the seed's typos, following Keras: `Embedding(input_dim, output_dim)` (the seed swaps the
arguments), `embedded_question = ...` (the seed assigns `embedded_text` twice), and one-hot answers
(the seed's `np.random.randint(0, 1, ...)` is all zeros, which makes every loss 0).
Smaller than the seed to run in seconds: 3 epochs per fit instead of 10.

Run: python examples/question_answering.py
"""

import numpy as np

import keraslike as keras
from keraslike import Input, layers
from keraslike.models import Model

from _common import check

keras.utils.set_random_seed(1337)

text_vocabulary_size = 10000
question_vocabulary_size = 10000
answer_vocabulary_size = 500

# The text input is a variable-length sequence of integers. Note that we can optionally name the inputs.
text_input = Input(shape=(None,), dtype="int32", name="text")

# Embeds the inputs into a sequence of vectors of size 64
embedded_text = layers.Embedding(text_vocabulary_size, 64)(text_input)

# Encodes the vectors in a single vector via an LSTM
encoded_text = layers.LSTM(32)(embedded_text)

# Process the question the same way
question_input = Input(shape=(None,), dtype="int32", name="question")
embedded_question = layers.Embedding(question_vocabulary_size, 32)(question_input)
encoded_question = layers.LSTM(16)(embedded_question)

# Now concatenate the encoded question and encoded text
concatenated = layers.concatenate([encoded_text, encoded_question], axis=-1)

# Adds a softmax classifier on top of it
answer = layers.Dense(answer_vocabulary_size, activation="softmax")(concatenated)

# At model instantiation, you specify the two inputs and the output
model = Model([text_input, question_input], answer)
model.summary()

# Embeddings 640,000 + 320,000; LSTM(32) on 64: 4*32*(64+32+1) = 12,416;
# LSTM(16) on 32: 4*16*(32+16+1) = 3,136; Dense 48*500 + 500 = 24,500.
check(model.count_params() == 1000052, f"expected 1,000,052 parameters, got {model.count_params():,}")
check(answer.shape == (None, answer_vocabulary_size), f"answer shape {answer.shape}")

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["acc"])

num_samples = 1000
max_length = 100

# Generate dummy data
text = np.random.randint(1, text_vocabulary_size, size=(num_samples, max_length))
question = np.random.randint(1, question_vocabulary_size, size=(num_samples, max_length))
answers = keras.utils.to_categorical(  # One-hot encoded, not integers
    np.random.randint(0, answer_vocabulary_size, size=num_samples), answer_vocabulary_size
)

# Fitting using a list of inputs
history = model.fit([text, question], answers, epochs=3, batch_size=128, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down (list of inputs)")
check(sorted(history.history) == ["acc", "loss"], f"history keys: {sorted(history.history)}")

# Fitting using a dictionary of inputs
history = model.fit({"text": text, "question": question}, answers, epochs=3, batch_size=128, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down (dict of inputs)")

# Both input structures give the same predictions.
by_list = model.predict([text[:8], question[:8]], verbose=0)
by_dict = model.predict({"question": question[:8], "text": text[:8]}, verbose=0)
check(by_list.shape == (8, answer_vocabulary_size), f"prediction shape {by_list.shape}")
check(np.allclose(by_list, by_dict), "list and dict inputs give different predictions")
check(np.allclose(by_list.sum(axis=-1), 1.0, atol=1e-5), "softmax outputs do not sum to 1")
print("OK: two-input question-answering model trained from a list and from a dict.")
