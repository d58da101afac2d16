"""The Functional API guide: "A toy ResNet model".

Residual connections (non-linear topology the Sequential API cannot express) in a small CIFAR-10
classifier. The guide trains on the first 1,000 CIFAR-10 images for one epoch; to run offline this
script generates 1,000 images with CIFAR-10's shapes and dtypes (see `_common.cifar_like_data`).

Run: python examples/toy_resnet.py
"""

import numpy as np

import keraslike as keras
from keraslike import layers

from _common import check, cifar_like_data

keras.utils.set_random_seed(1337)

inputs = keras.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(256, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
model.summary()

# --- Checks against the guide's summary ----------------------------------------------------------
check(model.count_params() == 223242, f"expected 223,242 parameters, got {model.count_params():,}")
expected = [
    ("img", (None, 32, 32, 3), 0),
    ("conv2d", (None, 30, 30, 32), 896),
    ("conv2d_1", (None, 28, 28, 64), 18496),
    ("max_pooling2d", (None, 9, 9, 64), 0),
    ("conv2d_2", (None, 9, 9, 64), 36928),
    ("conv2d_3", (None, 9, 9, 64), 36928),
    ("add", (None, 9, 9, 64), 0),
    ("conv2d_4", (None, 9, 9, 64), 36928),
    ("conv2d_5", (None, 9, 9, 64), 36928),
    ("add_1", (None, 9, 9, 64), 0),
    ("conv2d_6", (None, 7, 7, 64), 36928),
    ("global_average_pooling2d", (None, 64), 0),
    ("dense", (None, 256), 16640),
    ("dropout", (None, 256), 0),
    ("dense_1", (None, 10), 2570),
]
actual = [(layer.name, tuple(layer.output.shape), layer.count_params()) for layer in model.layers]
check(actual == expected, f"layers differ from the guide's summary:\n{actual}")
# The add layers are fed by two layers each (the residual connection).
add_inputs = [t._keras_history[0].name for t in model.get_layer("add").input]
check(add_inputs == ["conv2d_3", "max_pooling2d"], f"'add' is connected to {add_inputs}")

# Plot the model (keras.utils.plot_model(model, "mini_resnet.png", show_shapes=True) in the guide)
if hasattr(keras.utils, "plot_model"):
    import os
    import tempfile

    path = os.path.join(tempfile.mkdtemp(prefix="keraslike_example_"), "mini_resnet.png")
    try:
        keras.utils.plot_model(model, path, show_shapes=True)
        print("Model plotted to", path)
    except (ImportError, OSError) as error:
        print(f"plot_model skipped ({type(error).__name__}: {error})")
else:
    print("plot_model skipped: keras.utils.plot_model is not available in this keraslike build")

# --- Train (the guide: first 1,000 samples, one epoch, 20% for validation) -----------------------
# (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()   <- the guide (download)
(x_train, y_train), (x_test, y_test) = cifar_like_data(num_train=1000, num_test=200)
check(x_train.shape == (1000, 32, 32, 3) and y_train.shape == (1000, 1), "CIFAR-like data has the wrong shape")

x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
# We restrict the data to the first 1000 samples so as to limit execution time.
# The guide runs one epoch; two show the loss going down.
history = model.fit(x_train[:1000], y_train[:1000], batch_size=64, epochs=2, validation_split=0.2, verbose=2)
check(sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"], f"history keys: {sorted(history.history)}")
check(history.history["loss"][-1] < history.history["loss"][0], "training loss did not go down")

loss, acc = model.evaluate(x_test, y_test, verbose=2)
print(f"Test loss: {loss:.4f}, test accuracy: {acc:.3f}")
check(np.isfinite(loss), "test loss is not finite")
print("OK: toy ResNet built with residual connections and trained.")
