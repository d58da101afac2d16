"""The Functional API guide: "Shared layers".

One layer instance called several times is ONE set of weights used on several paths of the graph.
Here a single Embedding encodes two different text inputs; the script then builds a small model on
top, shows the embedding is stored once (in `model.layers`, the weights and `state_dict()`),
and trains it so that both paths update the same matrix.

Run: python examples/shared_layers.py
"""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)

# Embedding for 1000 unique words mapped to 128-dimensional vectors
shared_embedding = layers.Embedding(1000, 128)

# Variable-length sequence of integers
text_input_a = keras.Input(shape=(None,), dtype="int32")

# Variable-length sequence of integers
text_input_b = keras.Input(shape=(None,), dtype="int32")

# Reuse the same layer to encode both inputs
encoded_input_a = shared_embedding(text_input_a)
encoded_input_b = shared_embedding(text_input_b)

print("encoded_input_a:", encoded_input_a.shape, "encoded_input_b:", encoded_input_b.shape)
check(encoded_input_a.shape == (None, None, 128), f"encoded_input_a.shape is {encoded_input_a.shape}")
check(encoded_input_b.shape == (None, None, 128), f"encoded_input_b.shape is {encoded_input_b.shape}")

# --- Beyond the guide: a model using both encodings (does text a relate to text b?) --------------
pooled_a = layers.GlobalAveragePooling1D()(encoded_input_a)
pooled_b = layers.GlobalAveragePooling1D()(encoded_input_b)
merged = layers.concatenate([pooled_a, pooled_b])
score = layers.Dense(1, activation="sigmoid")(merged)
model = keras.Model([text_input_a, text_input_b], score, name="shared_embedding_model")
model.summary()

# The shared layer appears once, with two inbound calls, and its matrix is stored once.
check(sum(layer is shared_embedding for layer in model.layers) == 1, "the shared layer is listed more than once")
check(model.count_params() == 1000 * 128 + 257, f"{model.count_params():,} params: the embedding was counted twice?")
embedding_keys = [key for key in model.state_dict() if key.startswith(shared_embedding.name + ".")]
check(len(embedding_keys) == 1, f"state_dict holds the embedding {len(embedding_keys)} times: {embedding_keys}")
print("state_dict keys:", list(model.state_dict()))

# Same words through either input give the same encoding.
words = np.random.randint(1000, size=(2, 7)).astype("int32")
with torch.no_grad():
    probe = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    enc_a, enc_b = probe([words, words])
check(torch.equal(enc_a, enc_b), "the two paths do not use the same weights")

# Train: targets say whether the two texts share their first word. Gradients from both paths
# accumulate into the one embedding matrix.
rng = np.random.default_rng(0)
a = rng.integers(1000, size=(2048, 8)).astype("int32")
b = rng.integers(1000, size=(2048, 8)).astype("int32")
same = rng.random(2048) < 0.5
b[same, 0] = a[same, 0]
y = same.astype("float32").reshape(-1, 1)
before = shared_embedding.get_weights()[0].copy()
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit([a, b], y, batch_size=64, epochs=3, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down")
check(not np.array_equal(before, shared_embedding.get_weights()[0]), "the shared embedding was not trained")
print("OK: one Embedding shared by two inputs, stored once, trained through both paths.")
