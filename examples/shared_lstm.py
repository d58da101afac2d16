"""Seed 004, "Layer weight sharing": one LSTM shared by two inputs (a siamese model).

To judge whether two sentences mean the same, both are processed by the SAME LSTM layer: its
weights are learned from both inputs at once. The seed's text stops mid-line; the rest follows the
book it comes from (a sigmoid on the concatenated encodings, trained on pairs of sequences).
Fix to the seed's typo: `lstm(left_input))` has one bracket too many.

Run: python examples/shared_lstm.py
"""

import numpy as np
import torch

import keraslike as keras
from keraslike import Input, layers
from keraslike.models import Model

from _common import check

keras.utils.set_random_seed(1337)

# Instantiate one LSTM layer
lstm = layers.LSTM(32)

# Building the left branch: inputs are variable-length sequences of vectors of size 128
left_input = Input(shape=(None, 128))
left_output = lstm(left_input)

# Building the right branch: you reuse its weights
right_input = Input(shape=(None, 128))
right_output = lstm(right_input)

merged = layers.concatenate([left_output, right_output], axis=-1)
predictions = layers.Dense(1, activation="sigmoid")(merged)

# Instantiating and training the model: when you train such a model, the weights of the LSTM
# layer are updated based on both inputs.
model = Model([left_input, right_input], predictions)
model.summary()

# One LSTM (4 * 32 * (128 + 32 + 1) = 20,608) + Dense(1) on 64 features (65): shared, counted once.
check(model.count_params() == 20608 + 65, f"{model.count_params():,} params: expected 20,673")
check(sum(layer is lstm for layer in model.layers) == 1, "the shared LSTM should be listed once")
check(len([k for k in model.state_dict() if k.startswith(lstm.name + ".")]) == len(list(lstm.state_dict())), "LSTM stored twice?")

# Same sequence on both sides -> identical encodings.
sequence = torch.randn(2, 7, 128)
with torch.no_grad():
    encoder = Model([left_input, right_input], [left_output, right_output])
    enc_left, enc_right = encoder([sequence, sequence])
check(torch.equal(enc_left, enc_right), "the two branches do not share the LSTM")

# Pairs: the target says whether the right sequence is a noisy copy of the left one.
rng = np.random.default_rng(0)
num_pairs, timesteps = 512, 12
left_data = rng.normal(size=(num_pairs, timesteps, 128)).astype("float32")
right_data = rng.normal(size=(num_pairs, timesteps, 128)).astype("float32")
similar = rng.random(num_pairs) < 0.5
right_data[similar] = left_data[similar] + 0.1 * rng.normal(size=(similar.sum(), timesteps, 128)).astype("float32")
targets = similar.astype("float32").reshape(-1, 1)

before = [w.copy() for w in lstm.get_weights()]
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit([left_data, right_data], targets, epochs=5, batch_size=32, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down")
check(any(not np.array_equal(a, b) for a, b in zip(before, lstm.get_weights())), "the shared LSTM was not trained")
print("OK: one LSTM shared by two inputs, trained on pairs.")
