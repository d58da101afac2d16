"""Seed 004, "Directed acyclic graphs of layers": an Inception module and residual connections.

Inception: parallel branches (1x1 convolutions, a 3x3 convolution, average pooling) that all
stride by 2, so their outputs have the same size and can be concatenated along the channels.
Residual connection: an earlier output is *added* to a later one; when the shapes differ, a 1x1
convolution projects the shortcut to the new shape. The seed gives the Inception code on an
existing tensor `x`; here `x` comes from a small (16x16) input so that the whole thing trains
in seconds on a CPU.

Run: python examples/inception_and_residual.py
"""

import numpy as np

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)

# --- An Inception module ---------------------------------------------------------------------
inputs = keras.Input(shape=(16, 16, 3), name="image")
x = layers.Conv2D(64, 3, activation="relu", padding="same")(inputs)

# Every branch has the same stride=2, which is necessary to keep all branch outputs the same size
# so you can concatenate them.
branch_a = layers.Conv2D(128, 1, activation="relu", strides=2)(x)

# In this branch, the striding occurs in the spatial convolution layer.
branch_b = layers.Conv2D(128, 1, activation="relu")(x)
branch_b = layers.Conv2D(128, 3, activation="relu", strides=2)(branch_b)

# In this branch, the striding occurs in the average pooling layer.
branch_c = layers.AveragePooling2D(3, strides=2)(x)
branch_c = layers.Conv2D(128, 3, activation="relu")(branch_c)

branch_d = layers.Conv2D(128, 1, activation="relu")(x)
branch_d = layers.Conv2D(128, 3, activation="relu")(branch_d)
branch_d = layers.Conv2D(128, 3, activation="relu", strides=2)(branch_d)

# As written in the seed (no padding), the branches end at different sizes: 8, 7, 5 and 6.
sizes = [branch.shape[1] for branch in (branch_a, branch_b, branch_c, branch_d)]
print("branch output sizes as written:", sizes)
check(sizes == [8, 7, 5, 6], f"branch sizes {sizes}")
try:
    layers.concatenate([branch_a, branch_b, branch_c, branch_d], axis=-1)
except ValueError as error:
    print("concatenate refuses them, as Keras does:", str(error).splitlines()[0][:150])
else:
    raise SystemExit("CHECK FAILED: concatenate accepted branches of different spatial sizes")

# With padding="same" on the spatial convolutions and the pooling, all four are (8, 8).
branch_a = layers.Conv2D(128, 1, activation="relu", strides=2)(x)
branch_b = layers.Conv2D(128, 1, activation="relu")(x)
branch_b = layers.Conv2D(128, 3, activation="relu", strides=2, padding="same")(branch_b)
branch_c = layers.AveragePooling2D(3, strides=2, padding="same")(x)
branch_c = layers.Conv2D(128, 3, activation="relu", padding="same")(branch_c)
branch_d = layers.Conv2D(128, 1, activation="relu")(x)
branch_d = layers.Conv2D(128, 3, activation="relu", padding="same")(branch_d)
branch_d = layers.Conv2D(128, 3, activation="relu", strides=2, padding="same")(branch_d)

# Concatenates the branch outputs to obtain the module output
output = layers.concatenate([branch_a, branch_b, branch_c, branch_d], axis=-1)
check(output.shape == (None, 8, 8, 512), f"Inception module output {output.shape}")

# --- Residual connections ----------------------------------------------------------------------
# A 1x1 convolution first reduces the module's 512 channels to 128 (a "bottleneck").
x = layers.Conv2D(128, 1, activation="relu")(output)
# Same shapes: add the earlier output as it is.
y = layers.Conv2D(128, 3, activation="relu", padding="same")(x)
y = layers.Conv2D(128, 3, activation="relu", padding="same")(y)
y = layers.add([y, x])
check(y.shape == x.shape == (None, 8, 8, 128), "identity residual changed the shape")

# Different shapes: a strided 1x1 convolution projects the shortcut ("linear residual").
z = layers.Conv2D(128, 3, activation="relu", padding="same")(y)
z = layers.MaxPooling2D(2, strides=2)(z)
residual = layers.Conv2D(128, 1, strides=2, padding="same")(y)
z = layers.add([z, residual])
check(z.shape == (None, 4, 4, 128), f"projected residual output {z.shape}")

z = layers.GlobalAveragePooling2D()(z)
predictions = layers.Dense(10, activation="softmax")(z)
model = keras.Model(inputs, predictions, name="inception_resnet_toy")
model.summary()

add_layers = [layer for layer in model.layers if isinstance(layer, layers.Add)]
check(len(add_layers) == 2, f"expected 2 Add layers, found {len(add_layers)}")
concat = [layer for layer in model.layers if isinstance(layer, layers.Concatenate)]
check(len(concat) == 1 and len(concat[0].input) == 4, "the Inception concatenation should have 4 inputs")

# --- Train a little on random images whose class is their brightest channel ---------------------
rng = np.random.default_rng(0)
images = rng.random((128, 16, 16, 3)).astype("float32")
labels = rng.integers(0, 3, size=128)
images[np.arange(128), :, :, labels] += 0.5
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(images, labels, batch_size=32, epochs=2, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "loss did not go down")
print("OK: Inception branches and residual connections in one functional model.")
