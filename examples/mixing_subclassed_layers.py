"""The Functional API guide: "When to use the functional API" and "Mix-and-match API styles".

1. The same MLP written as a functional model and as a subclassed `keras.Model`.
2. A functional model used inside a subclassed layer (a custom RNN written from scratch).
3. That custom RNN layer used inside a functional model. Its `call` creates its state with the
   batch size of its input, so the functional input gets a fixed batch size (`batch_shape`).

Porting note: `tf.zeros(...)` and `tf.stack(...)` become `keras.ops.zeros` / `keras.ops.stack`,
or `torch.zeros(..., device=inputs.device)` / `torch.stack`. A tensor created inside `call` must be
on the device of the inputs: `keras.ops.zeros` creates it on torch's default device (the CPU), so
the layer trained by `fit` (which uses the GPU when there is one) passes `device=inputs.device`.

Run: python examples/mixing_subclassed_layers.py
"""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)

# --- 1. Functional vs subclassed: the same MLP ----------------------------------------------------
inputs = keras.Input(shape=(32,))
x = layers.Dense(64, activation="relu")(inputs)
outputs = layers.Dense(10)(x)
mlp = keras.Model(inputs, outputs)
check(mlp.count_params() == 2762, f"functional MLP: {mlp.count_params()} params")


class MLP(keras.Model):
    def __init__(self, **kwargs):
        super(MLP, self).__init__(**kwargs)
        self.dense_1 = layers.Dense(64, activation="relu")
        self.dense_2 = layers.Dense(10)

    def call(self, inputs):
        x = self.dense_1(inputs)
        return self.dense_2(x)


# Instantiate the model.
subclassed_mlp = MLP()
# Necessary to create the model's state.
# The model doesn't have a state until it's called at least once.
_ = subclassed_mlp(torch.zeros((1, 32)))  # tf.zeros -> torch.zeros
check(tuple(_.shape) == (1, 10), f"subclassed MLP output {tuple(_.shape)}")
check(subclassed_mlp.count_params() == 2762, f"subclassed MLP: {subclassed_mlp.count_params()} params")
print("Functional and subclassed MLPs: both 2,762 parameters.")

# --- 2. A functional model inside a subclassed layer -----------------------------------------------
units = 32
timesteps = 10
input_dim = 5

# Define a Functional model
inputs = keras.Input((None, units))
x = layers.GlobalAveragePooling1D()(inputs)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)


class CustomRNN(layers.Layer):
    def __init__(self):
        super(CustomRNN, self).__init__()
        self.units = units
        self.projection_1 = layers.Dense(units=units, activation="tanh")
        self.projection_2 = layers.Dense(units=units, activation="tanh")
        # Our previously-defined Functional model
        self.classifier = model

    def call(self, inputs):
        outputs = []
        state = keras.ops.zeros(shape=(inputs.shape[0], self.units))  # tf.zeros
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state)
            state = y
            outputs.append(y)
        features = keras.ops.stack(outputs, axis=1)  # tf.stack
        print(tuple(features.shape))  # the guide prints (1, 10, 32)
        return self.classifier(features)


rnn_model = CustomRNN()
_ = rnn_model(torch.zeros((1, timesteps, input_dim)))
check(tuple(_.shape) == (1, 1), f"CustomRNN with a functional classifier returned {tuple(_.shape)}")
check(rnn_model.classifier is model, "the functional model was not kept as a sublayer")

# --- 3. The custom RNN inside a functional model (fixed batch size) ------------------------------
batch_size = 16


class CustomRNN(layers.Layer):  # noqa: F811  (the guide redefines the class)
    def __init__(self):
        super(CustomRNN, self).__init__()
        self.units = units
        self.projection_1 = layers.Dense(units=units, activation="tanh")
        self.projection_2 = layers.Dense(units=units, activation="tanh")
        self.classifier = layers.Dense(1)

    def call(self, inputs):
        outputs = []
        # `fit` trains on the GPU when there is one: create the state where the inputs are.
        state = torch.zeros((inputs.shape[0], self.units), device=inputs.device)
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state)
            state = y
            outputs.append(y)
        features = keras.ops.stack(outputs, axis=1)
        return self.classifier(features)


# Note that you specify a static batch size for the inputs with the `batch_shape`
# arg, because the inner computation of `CustomRNN` requires a static batch size
# (when you create the `state` zeros tensor).
inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim))
x = layers.Conv1D(32, 3)(inputs)
outputs = CustomRNN()(x)

model = keras.Model(inputs, outputs)
model.summary()
check(inputs.shape == (batch_size, timesteps, input_dim), f"Input(batch_shape=...) has shape {inputs.shape}")
check(outputs.shape == (batch_size, timesteps - 2, 1), f"output shape {outputs.shape}")
# Conv1D: 3*5*32 + 32 = 512; CustomRNN: 2 x (32*32 + 32) + (32 + 1) = 2,145.
check(model.count_params() == 512 + 2145, f"{model.count_params()} params, expected 2,657")

rnn_model = CustomRNN()
_ = rnn_model(torch.zeros((1, 10, 5)))
check(tuple(_.shape) == (1, 10, 1), f"standalone CustomRNN returned {tuple(_.shape)}")

# The mixed model trains like any other (batches of exactly `batch_size` samples).
rng = np.random.default_rng(0)
x_data = rng.normal(size=(20 * batch_size, timesteps, input_dim)).astype("float32")
y_data = x_data[:, 1:-1, :1] + x_data[:, 2:, 1:2]  # a learnable target of shape (N, 8, 1)
model.compile(optimizer="adam", loss="mse")
history = model.fit(x_data, y_data, batch_size=batch_size, epochs=3, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down")
print("OK: functional models, subclassed layers and subclassed models mix freely.")
