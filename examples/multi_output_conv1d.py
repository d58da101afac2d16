"""Seed 004, "Multi-output model": one social-media post in, three predictions out.

An Embedding + Conv1D stack reads a post and predicts the author's age (regression), income group
(10-way softmax) and gender (sigmoid). Each output gets its own loss; the weighted sum is what
training minimizes. Compiled with a list and with a dict of losses and loss weights, trained with a
list and with a dict of targets.

Fixes to the seed's typos, following Keras: `Embedding(vocabulary_size, 256)` (the seed swaps the
arguments). The seed gives no data; this script generates 256 random posts of 300 words (the
shortest length the two MaxPooling1D(5) and six 5-wide convolutions accept is 269) and targets
that depend on the words, so the losses can go down. 2 epochs per fit instead of 10.

Run: python examples/multi_output_conv1d.py
"""

import numpy as np

import keraslike as keras
from keraslike import Input, layers
from keraslike.models import Model

from _common import check

keras.utils.set_random_seed(1337)

vocabulary_size = 50000
num_income_groups = 10

posts_input = Input(shape=(None,), dtype="int32", name="posts")
embedded_posts = layers.Embedding(vocabulary_size, 256)(posts_input)

x = layers.Conv1D(128, 5, activation="relu")(embedded_posts)
x = layers.MaxPooling1D(5)(x)
x = layers.Conv1D(256, 5, activation="relu")(x)
x = layers.Conv1D(256, 5, activation="relu")(x)
x = layers.MaxPooling1D(5)(x)
x = layers.Conv1D(256, 5, activation="relu")(x)
x = layers.Conv1D(256, 5, activation="relu")(x)
x = layers.GlobalMaxPooling1D()(x)
x = layers.Dense(128, activation="relu")(x)

# We name the outputs
age_prediction = layers.Dense(1, name="age")(x)
income_prediction = layers.Dense(num_income_groups, activation="softmax", name="income")(x)
gender_prediction = layers.Dense(1, activation="sigmoid", name="gender")(x)

model = Model(posts_input, [age_prediction, income_prediction, gender_prediction])
model.summary()

# Embedding 12,800,000; Conv1D 163,968 + 164,096 + 3 x 327,936; Dense 32,896; heads 129 + 1,290 + 129.
check(model.count_params() == 14146316, f"expected 14,146,316 parameters, got {model.count_params():,}")
check(model.output_names == ["age", "income", "gender"], f"output_names: {model.output_names}")

# --- Data: posts and targets that depend on them --------------------------------------------------
rng = np.random.default_rng(0)
num_posts, post_length = 256, 300
posts = rng.integers(1, vocabulary_size, size=(num_posts, post_length)).astype("int32")
signal = (posts < vocabulary_size // 2).mean(axis=1)  # share of "low" word ids in each post
signal = (signal - signal.mean()) / signal.std()
age_targets = (35 + 10 * signal).astype("float32").reshape(-1, 1)
income_targets = keras.utils.to_categorical(np.digitize(signal, np.quantile(signal, np.linspace(0.1, 0.9, 9))), num_income_groups)
gender_targets = (signal > 0).astype("float32").reshape(-1, 1)

# --- Multiple losses: a list, in output order ------------------------------------------------------
model.compile(
    optimizer="rmsprop",
    loss=["mse", "categorical_crossentropy", "binary_crossentropy"],
    loss_weights=[0.25, 1.0, 10.0],
)
history = model.fit(posts, [age_targets, income_targets, gender_targets], epochs=2, batch_size=64, verbose=2)
print("history keys:", sorted(history.history))
check({"age_loss", "income_loss", "gender_loss"} <= set(history.history), "per-output losses missing from history")
check(history.history["loss"][-1] < history.history["loss"][0], "total loss did not go down (list losses)")
results = model.evaluate(posts, [age_targets, income_targets, gender_targets], verbose=0, return_dict=True)
weighted = 0.25 * results["age_loss"] + 1.0 * results["income_loss"] + 10.0 * results["gender_loss"]
check(abs(results["loss"] - weighted) <= 1e-3 * max(1.0, weighted), f"total loss {results['loss']} != weighted sum {weighted}")
print("evaluate:", results)

# --- Equivalently, a dictionary keyed by output name -----------------------------------------------
model.compile(
    optimizer="rmsprop",
    loss={"age": "mse", "income": "categorical_crossentropy", "gender": "binary_crossentropy"},
    loss_weights={"age": 0.25, "income": 1.0, "gender": 10.0},
)
history = model.fit(posts, {"age": age_targets, "income": income_targets, "gender": gender_targets}, epochs=2, batch_size=64, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "total loss did not go down (dict losses)")

age, income, gender = model.predict(posts[:4], verbose=0)
check(age.shape == (4, 1) and income.shape == (4, num_income_groups) and gender.shape == (4, 1), "prediction shapes differ")
print("OK: three outputs with list and dict losses and loss weights.")
