"""The Functional API guide: "Save and serialize".

`model.save(path)` writes ONE file holding the architecture, the weights, the compile config and
the optimizer state; `keras.models.load_model(path)` recreates the exact model from that file
alone, without the code that built it. keraslike's native format is a pickle-free `.safetensors`
file (also used for a path without extension, like the guide's `"path_to_my_model"`); a path
ending in `.keras` writes a Keras 3 archive that Keras itself can load.

Run: python examples/save_and_serialize.py
"""

import os
import tempfile

import numpy as np

import keraslike as keras
from keraslike import layers

from _common import check, mnist_like_data

keras.utils.set_random_seed(1337)


def build_model():
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


(x_train, y_train), (x_test, y_test) = mnist_like_data(num_train=3000, num_test=500)
x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255

model = build_model()
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)
model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=2)
expected = model.predict(x_test, verbose=0)
expected_scores = model.evaluate(x_test, y_test, verbose=0)

out_dir = tempfile.mkdtemp(prefix="keraslike_example_")

# --- The guide's code: a path without extension is keraslike's single safetensors file --------
path = os.path.join(out_dir, "path_to_my_model")
model.save(path)
check(os.path.isfile(path), "model.save did not write a single file")
print(f"Saved to {path} ({os.path.getsize(path):,} bytes, one file)")
del model
# Recreate the exact same model purely from the file:
model = keras.models.load_model(path)
model.summary()
check(model.name == "mnist_model", f"restored model is named {model.name!r}")
check(np.array_equal(model.predict(x_test, verbose=0), expected), "predictions changed after save/load")
scores = model.evaluate(x_test, y_test, verbose=0)
check(np.allclose(scores, expected_scores), f"evaluate changed after save/load: {scores} vs {expected_scores}")
print("Restored model: identical predictions; compile config kept, evaluate gives", scores)

# --- The optimizer state is saved too: training resumes exactly where it left off ------------
twin = keras.models.load_model(path)
model.fit(x_train, y_train, batch_size=64, epochs=1, shuffle=False, verbose=0)
twin.fit(x_train, y_train, batch_size=64, epochs=1, shuffle=False, verbose=0)
check(
    all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights())),
    "two models loaded from the same file trained differently",
)
print("Two copies loaded from the file continue training identically (optimizer state restored).")

# --- An explicit `.safetensors` name, and compile=False ---------------------------------------
path_st = os.path.join(out_dir, "my_model.safetensors")
model.save(path_st)
bare = keras.models.load_model(path_st, compile=False)
check(not getattr(bare, "compiled", False), "compile=False still returned a compiled model")
check(np.array_equal(bare.predict(x_test, verbose=0), model.predict(x_test, verbose=0)), ".safetensors round trip changed predictions")
print(f"Saved to {path_st}; loaded with compile=False (weights only, ready for inference).")

# --- The Keras 3 `.keras` archive (the file Keras itself writes and reads) ---------------------
path_keras = os.path.join(out_dir, "my_model.keras")
model.save(path_keras)
from_archive = keras.models.load_model(path_keras)
check(
    np.allclose(from_archive.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-6),
    ".keras round trip changed predictions",
)
print(f"Saved to {path_keras} (Keras 3 archive) and loaded back: same predictions.")

# --- Weights only ----------------------------------------------------------------------------
# `.weights.h5` is Keras 3's file; `.weights.safetensors` is keyed like `state_dict()`. Both load
# into a freshly built copy whose auto-generated layer names differ (dense_3, ... vs dense, ...):
# like Keras, the weights are then matched by position.
for filename in ["my_model.weights.h5", "my_model.weights.safetensors"]:
    path_w = os.path.join(out_dir, filename)
    model.save_weights(path_w)
    fresh = build_model()
    fresh.load_weights(path_w)
    check(np.array_equal(fresh.predict(x_test, verbose=0), model.predict(x_test, verbose=0)), f"{filename}: round trip changed predictions")
# The architecture alone, as JSON:
json_config = model.to_json()
from_json = keras.models.model_from_json(json_config)
check(from_json.count_params() == 55050, "model_from_json rebuilt a different architecture")
print("save_weights/load_weights (.weights.h5, .weights.safetensors) and to_json/model_from_json round trips OK.")
print("OK: save and serialize.")
