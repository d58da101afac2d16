"""Port of keras-io `examples/keras_recipes/mixture_of_experts.py` (Standalone Mixture-of-Experts
(MoE) Layers, Abhinav Kumar Singh, Keras 3).

Changed: data (`keras.datasets.cifar10` -> synthetic uint8 images (n, 8, 8, 3) scaled to [0, 1]
as the example does, labels (n, 1) 0-9, seeded, subset_size 10000 -> 64, test 32), image size
32 -> 8, conv filters 32/64 -> 4/8, dense units 128/64 -> 16/8, experts 4/8 -> 2/3,
batch_size 128 -> 16, epochs 10 -> 2, `verbose=0`, `summary()` and printing dropped, the library
passed in as `keras`. `DenseMoE` (`ops.tensordot`) and `Conv2DMoE` (a 5-D expert kernel reshaped
for `ops.conv`, `ops.shape` of the output), their `get_config` with `activations.serialize`, the
baseline and MoE models, compile, fit with `validation_split`, evaluate, `count_params` and the
expert-utilization analysis (a feature model up to `dense_moe_layer.input`, the layer's own
`gating_kernel` / `gating_bias` / `gating_activation` used eagerly on predicted features) are the
example's. Added: evaluations and predictions of both models from their initial weights
(dropout makes training random), the parameter counts, the gating weights and a config round
trip of each MoE layer, kept in `History.results` for the parity test.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the MoE model's History.

    `on_model(model)` is called on each model before it evaluates and trains; `shuffle` goes to
    `fit`.
    """
    layers, ops, activations, optimizers = keras.layers, keras.ops, keras.activations, keras.optimizers
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    class DenseMoE(layers.Layer):
        def __init__(self, units, n_experts, expert_activation=None, gating_activation=None,
                     use_expert_bias=True, use_gating_bias=True, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.n_experts = n_experts
            self.expert_activation = activations.get(expert_activation)
            self.gating_activation = activations.get(gating_activation)
            self.use_expert_bias = use_expert_bias
            self.use_gating_bias = use_gating_bias

        def build(self, input_shape):
            input_dim = input_shape[-1]

            # Expert kernels: (input_dim, units, n_experts)
            self.expert_kernel = self.add_weight(
                name="expert_kernel",
                shape=(input_dim, self.units, self.n_experts),
                initializer="glorot_uniform",
                trainable=True,
            )

            # Expert biases: (units, n_experts)
            if self.use_expert_bias:
                self.expert_bias = self.add_weight(
                    name="expert_bias",
                    shape=(self.units, self.n_experts),
                    initializer="zeros",
                    trainable=True,
                )

            # Gating kernel: (input_dim, n_experts)
            self.gating_kernel = self.add_weight(
                name="gating_kernel",
                shape=(input_dim, self.n_experts),
                initializer="glorot_uniform",
                trainable=True,
            )

            # Gating bias: (n_experts,)
            if self.use_gating_bias:
                self.gating_bias = self.add_weight(
                    name="gating_bias",
                    shape=(self.n_experts,),
                    initializer="zeros",
                    trainable=True,
                )

            super().build(input_shape)

        def call(self, inputs):
            # Shape: (batch_size, units, n_experts)
            expert_outputs = ops.tensordot(inputs, self.expert_kernel, axes=1)

            if self.use_expert_bias:
                expert_outputs = expert_outputs + self.expert_bias

            if self.expert_activation is not None:
                expert_outputs = self.expert_activation(expert_outputs)

            # Shape: (batch_size, n_experts)
            gating_outputs = ops.tensordot(inputs, self.gating_kernel, axes=1)

            if self.use_gating_bias:
                gating_outputs = gating_outputs + self.gating_bias

            if self.gating_activation is not None:
                gating_outputs = self.gating_activation(gating_outputs)

            # Shape: (batch_size, 1, n_experts)
            gating_outputs = ops.expand_dims(gating_outputs, axis=1)

            # Shape: (batch_size, units)
            output = ops.sum(expert_outputs * gating_outputs, axis=-1)

            return output

        def get_config(self):
            config = super().get_config()
            config.update(
                {
                    "units": self.units,
                    "n_experts": self.n_experts,
                    "expert_activation": activations.serialize(self.expert_activation),
                    "gating_activation": activations.serialize(self.gating_activation),
                    "use_expert_bias": self.use_expert_bias,
                    "use_gating_bias": self.use_gating_bias,
                }
            )
            return config

    class Conv2DMoE(layers.Layer):
        def __init__(self, filters, kernel_size, n_experts, strides=1, padding="valid", expert_activation=None,
                     gating_activation=None, use_expert_bias=True, use_gating_bias=True, **kwargs):
            super().__init__(**kwargs)
            self.filters = filters
            self.kernel_size = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
            self.n_experts = n_experts
            self.strides = strides if isinstance(strides, tuple) else (strides, strides)
            self.padding = padding
            self.expert_activation = activations.get(expert_activation)
            self.gating_activation = activations.get(gating_activation)
            self.use_expert_bias = use_expert_bias
            self.use_gating_bias = use_gating_bias

        def build(self, input_shape):
            input_channels = input_shape[-1]

            # Expert kernels: (kernel_h, kernel_w, input_channels, filters, n_experts)
            self.expert_kernel = self.add_weight(
                name="expert_kernel",
                shape=(self.kernel_size[0], self.kernel_size[1], input_channels, self.filters, self.n_experts),
                initializer="glorot_uniform",
                trainable=True,
            )

            # Expert biases: (filters, n_experts)
            if self.use_expert_bias:
                self.expert_bias = self.add_weight(
                    name="expert_bias",
                    shape=(self.filters, self.n_experts),
                    initializer="zeros",
                    trainable=True,
                )

            # Gating kernel: (1, 1, input_channels, n_experts)
            self.gating_kernel = self.add_weight(
                name="gating_kernel",
                shape=(1, 1, input_channels, self.n_experts),
                initializer="glorot_uniform",
                trainable=True,
            )

            # Gating bias: (n_experts,)
            if self.use_gating_bias:
                self.gating_bias = self.add_weight(
                    name="gating_bias",
                    shape=(self.n_experts,),
                    initializer="zeros",
                    trainable=True,
                )

            super().build(input_shape)

        def call(self, inputs):
            # Process each expert and collect outputs
            expert_kernel = ops.reshape(
                self.expert_kernel,
                (self.kernel_size[0], self.kernel_size[1], ops.shape(inputs)[-1], self.filters * self.n_experts),
            )

            expert_outputs = ops.conv(inputs, expert_kernel, strides=self.strides, padding=self.padding)

            # Reshape output to split the experts dimension.
            output_shape = ops.shape(expert_outputs)
            expert_outputs = ops.reshape(
                expert_outputs,
                (output_shape[0], output_shape[1], output_shape[2], self.filters, self.n_experts),
            )

            if self.use_expert_bias:
                expert_outputs = expert_outputs + self.expert_bias

            if self.expert_activation is not None:
                expert_outputs = self.expert_activation(expert_outputs)

            # Shape: (batch, height, width, n_experts)
            gating_outputs = ops.conv(inputs, self.gating_kernel, strides=self.strides, padding=self.padding)

            if self.use_gating_bias:
                gating_outputs = gating_outputs + self.gating_bias

            if self.gating_activation is not None:
                gating_outputs = self.gating_activation(gating_outputs)

            # Shape: (batch, height, width, 1, n_experts)
            gating_outputs = ops.expand_dims(gating_outputs, axis=-2)

            # Shape: (batch, height, width, filters)
            output = ops.sum(expert_outputs * gating_outputs, axis=-1)

            return output

        def get_config(self):
            config = super().get_config()
            config.update(
                {
                    "filters": self.filters,
                    "kernel_size": self.kernel_size,
                    "n_experts": self.n_experts,
                    "strides": self.strides,
                    "padding": self.padding,
                    "expert_activation": activations.serialize(self.expert_activation),
                    "gating_activation": activations.serialize(self.gating_activation),
                    "use_expert_bias": self.use_expert_bias,
                    "use_gating_bias": self.use_gating_bias,
                }
            )
            return config

    x_train = rng.integers(0, 256, size=(64, 8, 8, 3)).astype("uint8")
    y_train = rng.integers(0, 10, size=(64, 1)).astype("uint8")
    x_test = rng.integers(0, 256, size=(32, 8, 8, 3)).astype("uint8")
    y_test = rng.integers(0, 10, size=(32, 1)).astype("uint8")

    # Normalize pixel values
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0

    def create_baseline_model():
        inputs = keras.Input(shape=(8, 8, 3))

        # Convolutional feature extraction
        x = layers.Conv2D(4, 3, activation="relu", padding="same")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(2)(x)

        x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(2)(x)

        # Dense classification head
        x = layers.Flatten()(x)
        x = layers.Dense(16, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
        x = layers.Dense(8, activation="relu")(x)
        outputs = layers.Dense(10, activation="softmax")(x)

        model = keras.Model(inputs, outputs, name="baseline_model")
        return model

    def create_moe_model():
        inputs = keras.Input(shape=(8, 8, 3))

        # MoE convolutional feature extraction
        x = Conv2DMoE(4, 3, n_experts=2, padding="same", expert_activation="relu",
                      gating_activation="softmax")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(2)(x)

        x = Conv2DMoE(8, 3, n_experts=2, padding="same", expert_activation="relu",
                      gating_activation="softmax")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(2)(x)

        # MoE dense classification head
        x = layers.Flatten()(x)
        x = DenseMoE(16, n_experts=3, expert_activation="relu", gating_activation="softmax")(x)
        x = layers.Dropout(0.5)(x)
        x = DenseMoE(8, n_experts=2, expert_activation="relu", gating_activation="softmax")(x)
        outputs = layers.Dense(10, activation="softmax")(x)

        model = keras.Model(inputs, outputs, name="moe_model")
        return model

    epochs = 2
    batch_size = 16

    def initial_results(name, model):
        on_model(model)
        results[f"{name}_initial"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        results[f"{name}_predict"] = {"probabilities": model.predict(x_test[:4], verbose=0).ravel().tolist(),
                                      "params": [model.count_params()]}

    baseline_model = create_baseline_model()
    baseline_model.compile(optimizer=optimizers.Adam(learning_rate=0.001), loss="sparse_categorical_crossentropy",
                           metrics=["accuracy"])
    initial_results("baseline", baseline_model)
    baseline_model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.2, verbose=0,
                       shuffle=shuffle)
    baseline_test_loss, baseline_test_acc = baseline_model.evaluate(x_test, y_test, verbose=0)
    assert 0.0 <= baseline_test_acc <= 1.0, baseline_test_acc

    moe_model = create_moe_model()
    moe_model.compile(optimizer=optimizers.Adam(learning_rate=0.001), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    initial_results("moe", moe_model)
    moe_history = moe_model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.2,
                                verbose=0, shuffle=shuffle)
    moe_test_loss, moe_test_acc = moe_model.evaluate(x_test, y_test, verbose=0)
    assert 0.0 <= moe_test_acc <= 1.0, moe_test_acc

    # Get the first DenseMoE layer from the MoE model
    dense_moe_layer = None
    for layer in moe_model.layers:
        if isinstance(layer, DenseMoE):
            dense_moe_layer = layer
            break

    if dense_moe_layer:
        # Create a model to extract features before the MoE layer
        feature_extractor = keras.Model(inputs=moe_model.input, outputs=dense_moe_layer.input)

        # Get features for a sample of test data
        test_features = feature_extractor.predict(x_test[:100], verbose=0)

        # Compute gating weights for these samples
        gating_outputs = ops.tensordot(test_features, dense_moe_layer.gating_kernel, axes=1)
        if dense_moe_layer.use_gating_bias:
            gating_outputs = gating_outputs + dense_moe_layer.gating_bias
        if dense_moe_layer.gating_activation is not None:
            gating_weights = dense_moe_layer.gating_activation(gating_outputs)
        else:
            gating_weights = gating_outputs

        # Convert to numpy for analysis
        gating_weights_np = ops.convert_to_numpy(gating_weights)
        assert gating_weights_np.shape == (32, 3), gating_weights_np.shape
        np.testing.assert_allclose(gating_weights_np.sum(axis=-1), 1.0, rtol=1e-5)

    for layer in moe_model.layers:
        if isinstance(layer, (DenseMoE, Conv2DMoE)):
            config = layer.get_config()
            clone = type(layer).from_config(config)
            assert clone.get_config() == config, (config, clone.get_config())
            results[f"config_{layer.name}"] = {"activations": [config["expert_activation"] == "relu",
                                                               config["gating_activation"] == "softmax"]}
    moe_history.results = results
    return moe_history
