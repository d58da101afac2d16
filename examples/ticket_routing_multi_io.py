"""The Functional API guide: "Models with multiple inputs and outputs".

A model that ranks customer tickets by priority and routes them to a department. Three inputs
(title and body as variable-length word-index sequences, tags as a binary vector), two outputs
(a priority score and department logits). Compiled once with a list of losses and loss weights and
once with dicts keyed by output name; trained on random data, as the guide does.

Run: python examples/ticket_routing_multi_io.py
"""

import numpy as np

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)

num_tags = 12  # Number of unique issue tags
num_words = 10000  # Size of vocabulary obtained when preprocessing text data
num_departments = 4  # Number of departments for predictions

title_input = keras.Input(shape=(None,), name="title")  # Variable-length sequence of ints
body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size `num_tags`

# Embed each word in the title into a 64-dimensional vector
title_features = layers.Embedding(num_words, 64)(title_input)
# Embed each word in the text into a 64-dimensional vector
body_features = layers.Embedding(num_words, 64)(body_input)

# Reduce sequence of embedded words in the title into a single 128-dimensional vector
title_features = layers.LSTM(128)(title_features)
# Reduce sequence of embedded words in the body into a single 32-dimensional vector
body_features = layers.LSTM(32)(body_features)

# Merge all available features into a single large vector via concatenation
x = layers.concatenate([title_features, body_features, tags_input])

# Stick a logistic regression for priority prediction on top of the features
priority_pred = layers.Dense(1, name="priority")(x)
# Stick a department classifier on top of the features
department_pred = layers.Dense(num_departments, name="department")(x)

# Instantiate an end-to-end model predicting both priority and department
model = keras.Model(
    inputs=[title_input, body_input, tags_input],
    outputs=[priority_pred, department_pred],
)
model.summary()

# Parameter counts (Keras 3): 2 x 640,000 (Embedding) + 98,816 (LSTM 128) + 12,416 (LSTM 32)
# + 173 (priority) + 692 (department).
check(model.count_params() == 1392097, f"expected 1,392,097 parameters, got {model.count_params():,}")
check(model.output_names == ["priority", "department"], f"output_names: {model.output_names}")
check([t.shape for t in model.outputs] == [(None, 1), (None, num_departments)], "output shapes differ")

# --- Dummy input data and target data (as in the guide) ----------------------------------------
num_samples = 1280
title_data = np.random.randint(num_words, size=(num_samples, 10))
body_data = np.random.randint(num_words, size=(num_samples, 100))
tags_data = np.random.randint(2, size=(num_samples, num_tags)).astype("float32")

priority_targets = np.random.random(size=(num_samples, 1))
dept_targets = np.random.randint(2, size=(num_samples, num_departments))

# --- 1. A list of losses and a list of loss weights (in output order) --------------------------
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[
        keras.losses.BinaryCrossentropy(from_logits=True),
        keras.losses.CategoricalCrossentropy(from_logits=True),
    ],
    loss_weights=[1.0, 0.2],
)
history = model.fit(
    [title_data, body_data, tags_data],
    [priority_targets, dept_targets],
    epochs=2,
    batch_size=32,
    verbose=2,
)
print("history keys (list losses):", sorted(history.history))
check(history.history["loss"][-1] < history.history["loss"][0], "total loss did not go down (list losses)")
check(
    {"priority_loss", "department_loss"} <= set(history.history),
    f"per-output losses missing from history: {sorted(history.history)}",
)

# The total loss is the weighted sum of the per-output losses (1.0 * priority + 0.2 * department).
results = model.evaluate([title_data, body_data, tags_data], [priority_targets, dept_targets], verbose=0, return_dict=True)
print("evaluate:", results)
weighted = results["priority_loss"] + 0.2 * results["department_loss"]
check(abs(results["loss"] - weighted) < 1e-3 * max(1.0, abs(weighted)), f"loss {results['loss']} != weighted sum {weighted}")

# --- 2. Losses and loss weights keyed by the output layers' names; dict data -------------------
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)
history = model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets},
    epochs=2,
    batch_size=32,
    verbose=2,
)
check(history.history["loss"][-1] < history.history["loss"][0], "total loss did not go down (dict losses)")

priority, department = model.predict({"title": title_data[:3], "body": body_data[:3], "tags": tags_data[:3]}, verbose=0)
check(priority.shape == (3, 1) and department.shape == (3, num_departments), "prediction shapes differ")
print("OK: three inputs, two outputs, list and dict losses and loss weights.")
