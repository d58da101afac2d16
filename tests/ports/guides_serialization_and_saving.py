"""Port of keras-io `guides/serialization_and_saving.py` (Save, serialize, and export models,
Neel Kovelamudi and Francois Chollet, Keras 3 edition), its numpy sections.

Changed: data (the guide's random arrays, seeded, n=128 -> 32), files written to a temporary
folder, prints -> asserts, `fit` with `verbose=0`, the export / TF SavedModel sections dropped,
the library passed in as `keras`. Kept: `model.save` / `keras.models.load_model` of a `.keras`
file (predictions and further training equal), registered custom functions and layers
(`register_keras_serializable` with packages and names) round-tripped through a `.keras` file,
`custom_objects` and `custom_object_scope` loading, `get_config` / `from_config` of a model
holding a custom layer, `keras.layers.serialize` / `deserialize` of a layer nesting another,
`save_weights` / `load_weights` of a `.weights.h5` file, and a layer's `get_build_config` /
`build_from_config` overrides. Dropped: the `save_own_variables` / `load_own_variables`
example (LayerWithCustomVariable): its `load_own_variables` reads `store["2"]` for the extra
variable it stored as `store["variables"]`, so `load_weights` fails on Keras 3.15.1 ("A total
of 1 objects could not be loaded"); keraslike fails earlier, in `save_weights` (KeyError '2').
"""

import os
import shutil
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the first model's History."""
    ops = keras.ops
    rng = np.random.default_rng(0)

    def get_model():
        # Create a simple model.
        inputs = keras.Input(shape=(32,))
        outputs = keras.layers.Dense(1)(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
        return model

    folder = tempfile.mkdtemp()
    registry = keras.saving.get_custom_objects()
    saved_registry = dict(registry)  # the guide clears the global registry: restored at the end
    try:
        model = get_model()

        # Train the model.
        test_input = rng.random((32, 32))
        test_target = rng.random((32, 1))
        history = model.fit(test_input, test_target, epochs=3, verbose=0, shuffle=shuffle)

        # Calling `save('my_model.keras')` creates a zip archive `my_model.keras`.
        model.save(os.path.join(folder, "my_model.keras"))

        # It can be used to reconstruct the model identically.
        reconstructed_model = keras.models.load_model(os.path.join(folder, "my_model.keras"))

        # Let's check:
        np.testing.assert_allclose(model.predict(test_input, verbose=0),
                                   reconstructed_model.predict(test_input, verbose=0), rtol=1e-6)

        # The reconstructed model is already compiled and has retained the optimizer
        # state, so training can resume:
        first = model.fit(test_input, test_target, verbose=0, shuffle=False).history["loss"]
        second = reconstructed_model.fit(test_input, test_target, verbose=0, shuffle=False).history["loss"]
        np.testing.assert_allclose(first, second, rtol=1e-5)

        # Clear all previously registered custom objects
        keras.saving.get_custom_objects().clear()

        # Upon registration, you can optionally specify a package or a name.
        # If left blank, the package defaults to `Custom` and the name defaults to
        # the class name.
        @keras.saving.register_keras_serializable(package="MyLayers")
        class CustomLayer(keras.layers.Layer):
            def __init__(self, factor):
                super().__init__()
                self.factor = factor

            def call(self, x):
                return x * self.factor

            def get_config(self):
                return {"factor": self.factor}

        @keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
        def custom_fn(x):
            return x**2

        # Create the model.
        def get_model():
            inputs = keras.Input(shape=(4,))
            mid = CustomLayer(0.5)(inputs)
            outputs = keras.layers.Dense(1, activation=custom_fn)(mid)
            model = keras.Model(inputs, outputs)
            model.compile(optimizer="rmsprop", loss="mean_squared_error")
            return model

        # Train the model.
        def train_model(model):
            input = rng.random((4, 4))
            target = rng.random((4, 1))
            model.fit(input, target, verbose=0, shuffle=shuffle)
            return model

        test_input = rng.random((4, 4))
        test_target = rng.random((4, 1))

        model = get_model()
        model = train_model(model)
        model.save(os.path.join(folder, "custom_model.keras"))

        # Now, we can simply load without worrying about our custom objects.
        reconstructed_model = keras.models.load_model(os.path.join(folder, "custom_model.keras"))

        # Let's check:
        np.testing.assert_allclose(model.predict(test_input, verbose=0),
                                   reconstructed_model.predict(test_input, verbose=0), rtol=1e-6)
        assert keras.saving.get_registered_name(CustomLayer) == "MyLayers>CustomLayer"
        assert keras.saving.get_registered_name(custom_fn) == "my_package>custom_fn"

        model = get_model()
        model.save(os.path.join(folder, "custom_model.keras"))
        keras.saving.get_custom_objects().clear()

        reconstructed_model = keras.models.load_model(
            os.path.join(folder, "custom_model.keras"),
            custom_objects={"MyLayers>CustomLayer": CustomLayer, "my_package>custom_fn": custom_fn},
        )
        with keras.saving.custom_object_scope(
            {"MyLayers>CustomLayer": CustomLayer, "my_package>custom_fn": custom_fn}
        ):
            reconstructed_model = keras.models.load_model(os.path.join(folder, "custom_model.keras"))
        np.testing.assert_allclose(model.predict(test_input, verbose=0),
                                   reconstructed_model.predict(test_input, verbose=0), rtol=1e-6)

        config = model.get_config()
        new_model = keras.Model.from_config(
            config, custom_objects={"MyLayers>CustomLayer": CustomLayer, "my_package>custom_fn": custom_fn})
        assert [type(l).__name__ for l in new_model.layers] == ["InputLayer", "CustomLayer", "Dense"]

        @keras.saving.register_keras_serializable(package="my_package", name="MyDense")
        class MyDense(keras.layers.Layer):
            def __init__(self, units, *, kernel_regularizer=None, kernel_initializer=None, nested_model=None,
                         **kwargs):
                super().__init__(**kwargs)
                self.hidden_units = units
                self.kernel_regularizer = kernel_regularizer
                self.kernel_initializer = kernel_initializer
                self.nested_model = nested_model

            def get_config(self):
                config = super().get_config()
                # Update the config with the custom layer's parameters
                config.update(
                    {
                        "units": self.hidden_units,
                        "kernel_regularizer": self.kernel_regularizer,
                        "kernel_initializer": self.kernel_initializer,
                        "nested_model": self.nested_model,
                    }
                )
                return config

            def build(self, input_shape):
                input_units = input_shape[-1]
                self.kernel = self.add_weight(
                    name="kernel",
                    shape=(input_units, self.hidden_units),
                    regularizer=self.kernel_regularizer,
                    initializer=self.kernel_initializer,
                )

            def call(self, inputs):
                return ops.matmul(inputs, self.kernel)

        layer = MyDense(units=16, kernel_regularizer="l1", kernel_initializer="ones")
        layer3 = MyDense(units=64, nested_model=layer)

        config = keras.layers.serialize(layer3)
        assert config["registered_name"] == "my_package>MyDense", config
        assert config["config"]["nested_model"]["registered_name"] == "my_package>MyDense"

        new_layer = keras.layers.deserialize(config)
        # As in Keras, the nested layer stays its serialized dict (the guide's point).
        assert isinstance(new_layer.nested_model, dict) and new_layer.nested_model["class_name"] == "MyDense"

        # Weights only.
        model = get_model()
        model = train_model(model)
        model.save_weights(os.path.join(folder, "my_model.weights.h5"))
        other = get_model()
        other.load_weights(os.path.join(folder, "my_model.weights.h5"))
        np.testing.assert_allclose(model.predict(test_input, verbose=0), other.predict(test_input, verbose=0),
                                   rtol=1e-6)

        @keras.saving.register_keras_serializable(package="my_custom_package")
        class LayerWithCustomBuild(keras.layers.Layer):
            def __init__(self, units=32, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def call(self, inputs):
                return ops.matmul(inputs, self.w) + self.b

            def get_config(self):
                return dict(units=self.units, **super().get_config())

            def build(self, input_shape, layer_init):
                # Note the overriding of `build()` to add an extra argument.
                # Therefore, we will need to manually call build with `layer_init` argument
                # before the first execution of `call()`.
                super().build(input_shape)
                self._input_shape = input_shape
                self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
                self.b = self.add_weight(shape=(self.units,), initializer=layer_init)
                self.layer_init = layer_init

            def get_build_config(self):
                build_config = {
                    "layer_init": self.layer_init,
                    "input_shape": self._input_shape,
                }  # Stores our initializer for `build()`
                return build_config

            def build_from_config(self, config):
                # Calls `build()` with the parameters at loading time
                self.build(config["input_shape"], config["layer_init"])

        custom_layer = LayerWithCustomBuild(units=16)
        custom_layer.build(input_shape=[8], layer_init="random_normal")

        model = keras.Sequential([custom_layer, keras.layers.Dense(1, activation="sigmoid")])
        model.build(input_shape=(None, 8))
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.save(os.path.join(folder, "custom_build_model.keras"))
        loaded = keras.models.load_model(os.path.join(folder, "custom_build_model.keras"))
        probe = rng.random((2, 8)).astype("float32")
        np.testing.assert_allclose(loaded.predict(probe, verbose=0), model.predict(probe, verbose=0), rtol=1e-5)
    finally:
        registry.clear()
        registry.update(saved_registry)
        shutil.rmtree(folder, ignore_errors=True)
    return history
