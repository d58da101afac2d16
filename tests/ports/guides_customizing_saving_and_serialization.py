"""Port of keras-io `guides/customizing_saving_and_serialization.py` (Customizing Saving and
Serialization, Neel Kovelamudi).

Changed: the guide's TensorFlow calls -> Keras 3's (`tf.Variable(..., dtype=tf.float32)` ->
`keras.Variable(..., dtype="float32")`, `tf.matmul` / `tf.math.squared_difference` /
`tf.reduce_sum` / `tf.reduce_mean` -> `keras.ops`), seeded numpy data, files written to a
temporary folder, `verbose=0`, the first `fit` 3 epochs (1), the first section's
targets `(8,)` -> `(8, 10)`, the shape of the layer's output (Dense(1) times the 10 stored
values; Keras 3.15.1 on torch fails the guide's `(8,)` with "The size of tensor a (8) must
match the size of tensor b (10)" in `mean_squared_error`, and keraslike the same way), and its
`load_own_variables` loading `[self.kernel, self.bias]` instead of `self.weights` (Keras 3 lists
the stored variable first among `self.weights`, created before the kernel, so the guide's loop
fails on Keras 3.15.1 assigning the kernel's value to it; keraslike raises the same ValueError),
and `build_from_config` reading the input shape from `config["shapes_dict"]` (Keras 3 records
every `build` argument: a two-argument `build` saves `{"shapes_dict": {...}}`, so the guide's
`config["input_shape"]` is a KeyError on Keras 3.15.1, and on keraslike), and
`ModelWithCustomCompile.__init__` taking `**kwargs` (Keras 3 rebuilds the model from its base
config `name`, `trainable`, `dtype`: the guide's `__init__(self)` is a TypeError on Keras
3.15.1 and on keraslike); the library passed in as `keras` (classes registered under a package
named after the library, so the two runs do not collide). With those four fixes each section
runs on Keras 3.15.1, and keraslike fails where Keras fails without them. The four sections are the
guide's: `save_own_variables` / `load_own_variables` with an extra stored variable,
`save_assets` / `load_assets` with a vocabulary file, `get_build_config` / `build_from_config`
with an extra `build` argument, `get_compile_config` / `compile_from_config` with a custom loss
and metric. Added checks: restored models predict what the saved ones did, and the restored
custom-compile model trains with its restored loss and metrics. Returned: the History of the
first section's `fit`.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns a History."""
    ops = keras.ops
    rng = np.random.default_rng(0)
    package = f"my_custom_package_{keras.__name__}"
    folder = tempfile.TemporaryDirectory()

    @keras.utils.register_keras_serializable(package=package)
    class LayerWithCustomVariables(keras.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.stored_variables = keras.Variable(rng.random((10,)), name="special_arr", dtype="float32")

        def save_own_variables(self, store):
            super().save_own_variables(store)
            # Stores the value of the variable upon saving
            store["variables"] = self.stored_variables.numpy()

        def load_own_variables(self, store):
            # Assigns the value of the variable upon loading
            self.stored_variables.assign(store["variables"])
            # Load the remaining weights (the guide loops over `self.weights`, below)
            for i, v in enumerate([self.kernel, self.bias]):
                v.assign(store[f"{i}"])
            # Note: You must specify how all variables (including layer weights)
            # are loaded in `load_own_variables.`

        def call(self, inputs):
            return super().call(inputs) * self.stored_variables

    with folder:
        model = keras.Sequential([LayerWithCustomVariables(1)])
        ref_input = rng.random((8, 10))
        ref_output = rng.random((8, 10))  # (8,) in the guide: Keras 3.15.1 fails on it (below)
        model.compile(optimizer="adam", loss="mean_squared_error")
        first = model.fit(ref_input, ref_output, epochs=3, verbose=0)

        model.save(os.path.join(folder.name, "custom_vars_model.keras"))
        restored_model = keras.models.load_model(os.path.join(folder.name, "custom_vars_model.keras"))
        np.testing.assert_allclose(
            model.layers[0].stored_variables.numpy(), restored_model.layers[0].stored_variables.numpy()
        )
        np.testing.assert_allclose(restored_model.predict(ref_input, verbose=0),
                                   model.predict(ref_input, verbose=0), rtol=1e-6)

        @keras.saving.register_keras_serializable(package=package)
        class LayerWithCustomAssets(keras.layers.Dense):
            def __init__(self, vocab=None, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.vocab = vocab

            def save_assets(self, inner_path):
                # Writes the vocab (sentence) to text file at save time.
                with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
                    f.write(self.vocab)

            def load_assets(self, inner_path):
                # Reads the vocab (sentence) from text file at load time.
                with open(os.path.join(inner_path, "vocabulary.txt"), "r") as f:
                    text = f.read()
                self.vocab = text.replace("<unk>", "little")

        model = keras.Sequential([LayerWithCustomAssets(vocab="Mary had a <unk> lamb.", units=5)])
        x = rng.random((10, 10))
        y = model(x)

        model.save(os.path.join(folder.name, "custom_assets_model.keras"))
        restored_model = keras.models.load_model(os.path.join(folder.name, "custom_assets_model.keras"))
        np.testing.assert_string_equal(restored_model.layers[0].vocab, "Mary had a little lamb.")

        @keras.saving.register_keras_serializable(package=package)
        class LayerWithCustomBuild(keras.layers.Layer):
            def __init__(self, units=32, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def call(self, inputs):
                return ops.matmul(inputs, self.w) + self.b

            def get_config(self):
                return dict(units=self.units, **super().get_config())

            def build(self, input_shape, layer_init):
                # Note the customization in overriding `build()` adds an extra argument.
                # Therefore, we will need to manually call build with `layer_init` argument
                # before the first execution of `call()`.
                super().build(input_shape)
                self.w = self.add_weight(
                    shape=(input_shape[-1], self.units),
                    initializer=layer_init,
                    trainable=True,
                )
                self.b = self.add_weight(
                    shape=(self.units,),
                    initializer=layer_init,
                    trainable=True,
                )
                self.layer_init = layer_init

            def get_build_config(self):
                build_config = super().get_build_config()  # only gives `input_shape`
                build_config.update(
                    {"layer_init": self.layer_init}  # Stores our initializer for `build()`
                )
                return build_config

            def build_from_config(self, config):
                # Calls `build()` with the parameters at loading time (the guide reads
                # `config["input_shape"]`: see the module docstring)
                self.build(config["shapes_dict"]["input_shape"], config["layer_init"])

        custom_layer = LayerWithCustomBuild(units=16)
        custom_layer.build(input_shape=(8,), layer_init="random_normal")

        model = keras.Sequential(
            [
                custom_layer,
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

        x = rng.random((16, 8))
        y = model(x)

        model.save(os.path.join(folder.name, "custom_build_model.keras"))
        restored_model = keras.models.load_model(os.path.join(folder.name, "custom_build_model.keras"))

        np.testing.assert_equal(restored_model.layers[0].layer_init, "random_normal")
        np.testing.assert_equal(restored_model.built, True)
        np.testing.assert_allclose(restored_model.predict(x, verbose=0), ops.convert_to_numpy(y), rtol=1e-6)

        @keras.saving.register_keras_serializable(package=package)
        def small_square_sum_loss(y_true, y_pred):
            loss = ops.square(y_pred - y_true)
            loss = loss / 10.0
            loss = ops.sum(loss, axis=1)
            return loss

        @keras.saving.register_keras_serializable(package=package)
        def mean_pred(y_true, y_pred):
            return ops.mean(y_pred)

        @keras.saving.register_keras_serializable(package=package)
        class ModelWithCustomCompile(keras.Model):
            def __init__(self, **kwargs):  # the guide's takes none (see the module docstring)
                super().__init__(**kwargs)
                self.dense1 = keras.layers.Dense(8, activation="relu")
                self.dense2 = keras.layers.Dense(4, activation="softmax")

            def call(self, inputs):
                x = self.dense1(inputs)
                return self.dense2(x)

            def compile(self, optimizer, loss_fn, metrics):
                super().compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
                self.model_optimizer = optimizer
                self.loss_fn = loss_fn
                self.loss_metrics = metrics

            def get_compile_config(self):
                # These parameters will be serialized at saving time.
                return {
                    "model_optimizer": self.model_optimizer,
                    "loss_fn": self.loss_fn,
                    "metric": self.loss_metrics,
                }

            def compile_from_config(self, config):
                # Deserializes the compile parameters (important, since many are custom)
                optimizer = keras.utils.deserialize_keras_object(config["model_optimizer"])
                loss_fn = keras.utils.deserialize_keras_object(config["loss_fn"])
                metrics = keras.utils.deserialize_keras_object(config["metric"])

                # Calls compile with the deserialized parameters
                self.compile(optimizer=optimizer, loss_fn=loss_fn, metrics=metrics)

        model = ModelWithCustomCompile()
        model.compile(optimizer="SGD", loss_fn=small_square_sum_loss, metrics=["accuracy", mean_pred])

        x = rng.random((4, 8))
        y = rng.random((4,))

        history = model.fit(x, y, verbose=0)
        assert sorted(history.history) == ["accuracy", "loss", "mean_pred"], sorted(history.history)

        model.save(os.path.join(folder.name, "custom_compile_model.keras"))
        restored_model = keras.models.load_model(os.path.join(folder.name, "custom_compile_model.keras"))

        np.testing.assert_equal(model.model_optimizer, restored_model.model_optimizer)
        np.testing.assert_equal(model.loss_fn, restored_model.loss_fn)
        np.testing.assert_equal(model.loss_metrics, restored_model.loss_metrics)
        np.testing.assert_allclose(restored_model.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
        restored = restored_model.fit(x, y, verbose=0).history
        assert sorted(restored) == ["accuracy", "loss", "mean_pred"], sorted(restored)
    return first
