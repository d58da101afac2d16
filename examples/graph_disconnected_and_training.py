"""Seed 002, "Introduction to the Keras Functional API": Sequential vs functional, the
"Graph disconnected" error, and compile / fit / evaluate on random data.

Run: python examples/graph_disconnected_and_training.py
"""

import numpy as np

import keraslike as keras
from keraslike import Input, layers
from keraslike.models import Model, Sequential

from _common import check

keras.utils.set_random_seed(1337)

# --- A layer is a function: tensor in, tensor out ----------------------------------------------
input_tensor = Input(shape=(32,))  # A tensor
dense = layers.Dense(32, activation="relu")  # A layer is a function
output_tensor = dense(input_tensor)  # A layer takes a tensor and returns a tensor
check(output_tensor.shape == (None, 32), f"output_tensor.shape is {output_tensor.shape}")

# --- The same network, Sequential and functional -----------------------------------------------
seq_model = Sequential()
seq_model.add(layers.Dense(units=32, activation="relu", input_shape=(64,)))
seq_model.add(layers.Dense(units=32, activation="relu"))
seq_model.add(layers.Dense(units=10, activation="softmax"))
seq_model.summary()

input_tensor = Input(shape=(64,))  # Each sample is a 64-dimensional vector
x = layers.Dense(units=32, activation="relu")(input_tensor)
x = layers.Dense(units=32, activation="relu")(x)
output_tensor = layers.Dense(units=10, activation="softmax")(x)
func_model = Model(input_tensor, output_tensor)
func_model.summary()

for name, model in [("Sequential", seq_model), ("functional", func_model)]:
    check(model.count_params() == 3466, f"{name} model: {model.count_params():,} params, the guide: 3,466")
    check([layer.count_params() for layer in model.layers if layer.count_params()] == [2080, 1056, 330], f"{name}: per-layer counts differ")
# Sequential's `layers` has no InputLayer; a functional model's starts with it (as in Keras 3).
check(len(seq_model.layers) == 3 and len(func_model.layers) == 4, "layer lists differ from Keras's")
func_model.set_weights(seq_model.get_weights())
probe = np.random.random((4, 64)).astype("float32")
check(np.allclose(seq_model.predict(probe, verbose=0), func_model.predict(probe, verbose=0)), "the two models differ")
print("Sequential and functional models are the same network (same weights -> same outputs).")

# --- "Graph disconnected": an output that does not depend on the given input -------------------
unrelated_input = Input(shape=(32,))
try:
    bad_model = model = Model(unrelated_input, output_tensor)
except ValueError as error:
    print("ValueError:", error)
    check("disconnected" in str(error).lower() or "not connected" in str(error).lower(), "unexpected error message")
else:
    raise SystemExit("CHECK FAILED: a model with an unrelated input was accepted")

# --- Compiling and training: the same calls as for a Sequential model ---------------------------
func_model.compile(optimizer="rmsprop", loss="categorical_crossentropy")

# Generate dummy data to train model on
x_train = np.random.random((1000, 64))
y_train = np.random.random((1000, 10))

history = func_model.fit(x_train, y_train, batch_size=128, epochs=10, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down")

score = func_model.evaluate(x_train, y_train, verbose=2)
print("evaluate ->", score)
check(isinstance(score, float), f"evaluate with only a loss returns one float in Keras, got {type(score).__name__}")
print("OK: Sequential vs functional, Graph disconnected, compile/fit/evaluate.")
