"""The Functional API guide: "Extend the API using custom layers".

A basic re-implementation of Dense as a custom layer (`build` creates the weights, `call` computes),
used in a functional model, then made serializable with `get_config` so the model can be
recreated from its config (`Model.from_config(config, custom_objects=...)`) and from a saved file.

Porting note: the guide's `tf.matmul(inputs, self.w) + self.b` becomes `torch.matmul` (or
`keras.ops.matmul`); `super(CustomDense, self).__init__()` works unchanged.

Run: python examples/custom_layers.py
"""

import os
import tempfile

import numpy as np
import torch

import keraslike as keras
from keraslike import layers

from _common import check

keras.utils.set_random_seed(1337)


# --- The basic custom layer (guide's first version) ----------------------------------------------
class CustomDense(layers.Layer):
    def __init__(self, units=32):
        super(CustomDense, self).__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return torch.matmul(inputs, self.w) + self.b  # tf.matmul -> torch.matmul


inputs = keras.Input((4,))
outputs = CustomDense(10)(inputs)

model = keras.Model(inputs, outputs)
model.summary()
check(model.count_params() == 4 * 10 + 10, f"CustomDense(10) on 4 features: {model.count_params()} params, expected 50")
check(outputs.shape == (None, 10), f"output shape {outputs.shape}")
x = np.random.random((3, 4)).astype("float32")
with torch.no_grad():
    layer = model.layers[1]
    check(torch.allclose(model(x), torch.from_numpy(x) @ layer.w + layer.b, atol=1e-6), "CustomDense computes the wrong thing")


# --- With get_config: serializable -------------------------------------------------------------
class CustomDense(layers.Layer):  # noqa: F811  (the guide redefines the class)
    def __init__(self, units=32):
        super(CustomDense, self).__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b  # keras.ops works as well

    def get_config(self):
        return {"units": self.units}


inputs = keras.Input((4,))
outputs = CustomDense(10)(inputs)

model = keras.Model(inputs, outputs)
config = model.get_config()

new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
new_model.summary()
check(new_model.count_params() == 50, "from_config built a different model")
check(isinstance(new_model.layers[1], CustomDense), f"layer 1 is {type(new_model.layers[1]).__name__}, not CustomDense")
check(new_model.layers[1].units == 10, "the config did not carry `units`")
check(new_model.layers[1].get_config() == model.layers[1].get_config(), "the rebuilt layer's config differs")
# The guide's get_config returns only {"units": ...} (no "name"), so, as in Keras, the rebuilt
# layer gets a fresh auto-generated name.
print("from_config rebuilt the model:", [layer.name for layer in new_model.layers])

# Without custom_objects the class cannot be found (loading never imports code named by a config).
try:
    keras.Model.from_config(config)
except (TypeError, ValueError) as error:
    print(f"Without custom_objects: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
else:
    raise SystemExit("CHECK FAILED: from_config found CustomDense without custom_objects")


# --- Optionally, from_config (the default implementation is cls(**config)) ------------------------
# Written the way Keras recommends for layers you want to save: accept **kwargs (name, dtype,
# trainable...) and extend the base config, so the layer keeps its name through a round trip.
class ScaledDense(CustomDense):
    def __init__(self, units=32, scale=1.0, **kwargs):
        layers.Layer.__init__(self, **kwargs)
        self.units = units
        self.scale = scale

    def call(self, inputs):
        return super().call(inputs) * self.scale

    def get_config(self):
        config = layers.Layer.get_config(self)
        config.update({"units": self.units, "scale": self.scale})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


inputs = keras.Input((4,))
outputs = ScaledDense(3, scale=2.0, name="scaled")(inputs)
model = keras.Model(inputs, outputs)
rebuilt = keras.Model.from_config(model.get_config(), custom_objects={"ScaledDense": ScaledDense})
check(rebuilt.layers[1].scale == 2.0 and rebuilt.layers[1].name == "scaled", "from_config lost `scale` or the name")

# Weights come along when saving the whole model to a file (custom_objects again at load time).
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.random((64, 4)), np.random.random((64, 3)), epochs=1, verbose=0)
out_dir = tempfile.mkdtemp(prefix="keraslike_example_")
for filename in ["scaled.safetensors", "scaled.keras"]:
    path = os.path.join(out_dir, filename)
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"ScaledDense": ScaledDense})
    check(np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0)), f"{filename}: loaded model predicts differently")
    print(f"Model with a custom layer saved to {path} and loaded with custom_objects: same predictions.")

# The guide's CustomDense (get_config without "name") saved as a whole model.
inputs = keras.Input((4,))
guide_model = keras.Model(inputs, CustomDense(10)(inputs))
for filename in ["custom_dense.keras", "custom_dense.safetensors"]:
    path = os.path.join(out_dir, filename)
    guide_model.save(path)
    # The layer's config has no "name", so it is renamed on load; weights then match by position.
    loaded = keras.models.load_model(path, custom_objects={"CustomDense": CustomDense})
    check(np.allclose(loaded.predict(x, verbose=0), guide_model.predict(x, verbose=0)), f"{filename}: predictions differ")
    print(f"The guide's CustomDense model saved to {filename} and loaded: same predictions.")
print("OK: custom layers with get_config/from_config.")
