"""Seed 001: the same model as Sequential and functional, and conversions both ways.

A Sequential Conv2D model on 224x224x3 images (92,218,123 parameters, most of them in the Dense
layer after Flatten) is rewritten with the functional API (two styles), converted from
Sequential to functional by calling its layers on a new Input (transfer learning's bread and
butter), and back from functional to Sequential (possible because the model is linear).
Converted models reuse the same layer objects, so they share weights: same outputs.

The 224x224 models are built and run on one image; training them on a 2-core CPU would take
minutes, so the training part uses the same architecture on 32x32 images.

Run: python examples/sequential_functional_conversion.py
"""

import numpy as np
import torch

import keraslike as keras

from _common import check

keras.utils.set_random_seed(1337)
GUIDE_PARAMS = 92218123

# --- The Sequential model ------------------------------------------------------------------------
s_model = keras.Sequential([
    keras.layers.Conv2D(100, 5, activation='tanh', name='first_layer', input_shape=(224, 224, 3)),
    keras.layers.Conv2D(50, 5, activation='tanh', name='second_layer'),
    keras.layers.Conv2D(32, 5, activation='tanh', name='third_layer'),
    keras.layers.Flatten(name='flatten_layer'),
    keras.layers.Dense(64, activation='relu', name='fifthy_layer'),
    keras.layers.Dense(1, activation='sigmoid', name='output_layer'),
], name='s_model')
s_model.summary()

expected = [
    ("first_layer", (None, 220, 220, 100), 7600),
    ("second_layer", (None, 216, 216, 50), 125050),
    ("third_layer", (None, 212, 212, 32), 40032),
    ("flatten_layer", (None, 1438208), 0),
    ("fifthy_layer", (None, 64), 92045376),
    ("output_layer", (None, 1), 65),
]


def layer_table(model):
    return [(layer.name, tuple(layer.output.shape), layer.count_params()) for layer in model.layers if layer.count_params() or layer.name == "flatten_layer"]


check(s_model.count_params() == GUIDE_PARAMS, f"s_model: {s_model.count_params():,} params, the guide: 92,218,123")
check(layer_table(s_model) == expected, f"s_model layers differ from the guide:\n{layer_table(s_model)}")

# --- Method 1: create the layers, then call them -------------------------------------------------
input_layer = keras.layers.Input(shape=(224, 224, 3), name="input_layer")
first_layer = keras.layers.Conv2D(100, 5, activation='tanh', name='first_layer')
second_layer = keras.layers.Conv2D(50, 5, activation='tanh', name='second_layer')
third_layer = keras.layers.Conv2D(32, 5, activation='tanh', name='third_layer')
flatten_layer = keras.layers.Flatten(name='flatten_layer')
fifthy_layer = keras.layers.Dense(64, activation='relu', name='fifthy_layer')
output_layer = keras.layers.Dense(1, activation='sigmoid', name='output_layer')

# These layers are callable
x = first_layer(input_layer)
x = second_layer(x)
x = third_layer(x)
x = flatten_layer(x)
x = fifthy_layer(x)
x = output_layer(x)

f1_model = keras.Model(inputs=input_layer, outputs=x, name="f1_model")
f1_model.summary()

# --- Method 2: create and call each layer in one line (the common style) ------------------------
input_layer = keras.layers.Input(shape=(224, 224, 3), name="input_layer")
first_layer = keras.layers.Conv2D(100, 5, activation='tanh', name='first_layer')(input_layer)
second_layer = keras.layers.Conv2D(50, 5, activation='tanh', name='second_layer')(first_layer)
third_layer = keras.layers.Conv2D(32, 5, activation='tanh', name='third_layer')(second_layer)
flatten_layer = keras.layers.Flatten(name='flatten_layer')(third_layer)
fifthy_layer = keras.layers.Dense(64, activation='relu', name='fifthy_layer')(flatten_layer)
output_layer = keras.layers.Dense(1, activation='sigmoid', name='output_layer')(fifthy_layer)

f2_model = keras.Model(inputs=input_layer, outputs=output_layer, name="f1_model")
f2_model.summary()

for model in (f1_model, f2_model):
    check(model.count_params() == GUIDE_PARAMS, f"{model.name}: {model.count_params():,} params")
    check(layer_table(model) == expected, f"{model.name}: layers differ from the guide")

# --- Convert Sequential to functional --------------------------------------------------------------
input_layer = keras.layers.Input(shape=(224, 224, 3))
x = s_model.layers[0](input_layer)
for layer in s_model.layers[1:]:
    x = layer(x)
f3_model = keras.Model(inputs=input_layer, outputs=x, name="f3_model")
f3_model.summary()
check(f3_model.count_params() == GUIDE_PARAMS, f"f3_model: {f3_model.count_params():,} params")
check(all(a is b for a, b in zip(s_model.layers, f3_model.layers[1:])), "f3_model does not reuse s_model's layers")

# --- Convert functional to Sequential (only for linear models) -----------------------------------
s1_model = keras.Sequential()
for layer in f1_model.layers:
    s1_model.add(layer)
s1_model.summary()
check(s1_model.count_params() == GUIDE_PARAMS, f"s1_model: {s1_model.count_params():,} params")
check(layer_table(s1_model) == expected, "s1_model: layers differ from the guide")
check(all(a is b for a, b in zip(f1_model.layers[1:], s1_model.layers)), "s1_model does not reuse f1_model's layers")

# Shared layers -> same outputs, on one 224x224 image.
image = np.random.default_rng(0).random((1, 224, 224, 3)).astype("float32")
with torch.no_grad():
    check(torch.equal(s_model(image), f3_model(image)), "s_model and f3_model disagree")
    check(torch.equal(f1_model(image), s1_model(image)), "f1_model and s1_model disagree")
print("Converted models share the original layers: identical outputs.")

# --- Access inputs and outputs of a model, and of a layer ------------------------------------------
print(f1_model.inputs, f1_model.outputs)
print(f1_model.layers[-1].input, f1_model.layers[-1].output)
check([t.shape for t in f1_model.inputs] == [(None, 224, 224, 3)], "f1_model.inputs")
check([t.shape for t in f1_model.outputs] == [(None, 1)], "f1_model.outputs")
check(f1_model.layers[-1].input.shape == (None, 64) and f1_model.layers[-1].output.shape == (None, 1), "layer input/output")
check(f1_model.layers[-1].input is f1_model.layers[-2].output, "a layer's input should be the previous layer's output tensor")

# --- Training the same architecture on 32x32 images ---------------------------------------------
del s_model, f1_model, f2_model, f3_model, s1_model


def small_s_model():
    return keras.Sequential([
        keras.layers.Conv2D(100, 5, activation='tanh', name='first_layer', input_shape=(32, 32, 3)),
        keras.layers.Conv2D(50, 5, activation='tanh', name='second_layer'),
        keras.layers.Conv2D(32, 5, activation='tanh', name='third_layer'),
        keras.layers.Flatten(name='flatten_layer'),
        keras.layers.Dense(64, activation='relu', name='fifthy_layer'),
        keras.layers.Dense(1, activation='sigmoid', name='output_layer'),
    ], name='s_model_32')


small = small_s_model()
check(small.count_params() == 7600 + 125050 + 40032 + 20 * 20 * 32 * 64 + 64 + 65, "32x32 model parameter count")
inp = keras.Input(shape=(32, 32, 3))
x = inp
for layer in small.layers:
    x = layer(x)
small_functional = keras.Model(inp, x, name="f_model_32")

rng = np.random.default_rng(0)
images = rng.random((128, 32, 32, 3)).astype("float32")
labels = (rng.random(128) < 0.5).astype("float32")
images[labels == 1, :16] += 0.5  # label 1: the top half of the image is brighter
small_functional.compile(optimizer=keras.optimizers.Adam(1e-4), loss="binary_crossentropy", metrics=["accuracy"])
history = small_functional.fit(images, labels, batch_size=32, epochs=3, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down")
# Training the functional copy trained the Sequential original: they are the same layers.
check(np.array_equal(small.predict(images[:4], verbose=0), small_functional.predict(images[:4], verbose=0)), "Sequential and functional copies diverged")
print("OK: Sequential <-> functional conversions; the converted model trains the original's layers.")
