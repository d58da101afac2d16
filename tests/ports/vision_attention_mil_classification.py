"""Port of keras-io `examples/vision/attention_mil_classification.py` (Classification using
Attention-based Deep Multiple Instance Learning, Mohamad Jaber, Keras 3 edition).

Changed: data (`keras.datasets.mnist.load_data` and `create_bags` -> synthetic (10, 10)
instances, a bag positive when one of its instances carries a bright bar, seeded, 24 / 8 bags
of BAG_SIZE 3), layer sizes 128 / 64 / weight_params_dim 256 -> 16 / 8 / 16 (CPU test time),
epochs 20 -> 3, ENSEMBLE_AVG_COUNT 1, the checkpoint written to a temporary folder, plotting
dropped, the library passed in as `keras`. MILAttentionLayer (a layer taking and returning lists
of tensors, gated attention, regularized weights, `build` setting only `input_built`), the
model with shared Dense layers over the bag's inputs, `layers.multiply` / `layers.concatenate`,
`compute_class_weights` given to `fit` as `class_weight`, batch_size 1, EarlyStopping +
ModelCheckpoint(`save_best_only`, `save_weights_only`) then `load_weights`, and `predict` with
the intermediate attention model from `get_layer("alpha").output` are the example's.
"""

import os
import tempfile

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    BAG_COUNT = 24
    VAL_BAG_COUNT = 8
    BAG_SIZE = 3
    ENSEMBLE_AVG_COUNT = 1

    def create_bags(bag_count, instance_count):
        bags = [[] for _ in range(instance_count)]
        labels = []
        for _ in range(bag_count):
            instances = rng.random((instance_count, 10, 10)).astype("float32") * 0.5
            label = int(rng.random() < 0.4)
            if label:
                instances[rng.integers(instance_count), 4:6, :] = 1.0
            for i in range(instance_count):
                bags[i].append(instances[i])
            labels.append(label)
        return [np.array(b) for b in bags], np.array(labels)

    train_data, train_labels = create_bags(BAG_COUNT, BAG_SIZE)
    val_data, val_labels = create_bags(VAL_BAG_COUNT, BAG_SIZE)

    class MILAttentionLayer(layers.Layer):
        """Implementation of the attention-based Deep MIL layer."""

        def __init__(self, weight_params_dim, kernel_initializer="glorot_uniform", kernel_regularizer=None,
                     use_gated=False, **kwargs):
            super().__init__(**kwargs)

            self.weight_params_dim = weight_params_dim
            self.use_gated = use_gated

            self.kernel_initializer = keras.initializers.get(kernel_initializer)
            self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

            self.v_init = self.kernel_initializer
            self.w_init = self.kernel_initializer
            self.u_init = self.kernel_initializer

            self.v_regularizer = self.kernel_regularizer
            self.w_regularizer = self.kernel_regularizer
            self.u_regularizer = self.kernel_regularizer

        def build(self, input_shape):
            # Input shape.
            # List of 2D tensors with shape: (batch_size, input_dim).
            input_dim = input_shape[0][1]

            self.v_weight_params = self.add_weight(
                shape=(input_dim, self.weight_params_dim),
                initializer=self.v_init,
                name="v",
                regularizer=self.v_regularizer,
                trainable=True,
            )

            self.w_weight_params = self.add_weight(
                shape=(self.weight_params_dim, 1),
                initializer=self.w_init,
                name="w",
                regularizer=self.w_regularizer,
                trainable=True,
            )

            if self.use_gated:
                self.u_weight_params = self.add_weight(
                    shape=(input_dim, self.weight_params_dim),
                    initializer=self.u_init,
                    name="u",
                    regularizer=self.u_regularizer,
                    trainable=True,
                )
            else:
                self.u_weight_params = None

            self.input_built = True

        def call(self, inputs):
            # Assigning variables from the number of inputs.
            instances = [self.compute_attention_scores(instance) for instance in inputs]

            # Stack instances into a single tensor.
            instances = ops.stack(instances)

            # Apply softmax over instances such that the output summation is equal to 1.
            alpha = ops.softmax(instances, axis=0)

            # Split to recreate the same array of tensors we had as inputs.
            return [alpha[i] for i in range(alpha.shape[0])]

        def compute_attention_scores(self, instance):
            # Reserve in-case "gated mechanism" used.
            original_instance = instance

            # tanh(v*h_k^T)
            instance = ops.tanh(ops.tensordot(instance, self.v_weight_params, axes=1))

            # for learning non-linear relations efficiently.
            if self.use_gated:
                instance = instance * ops.sigmoid(ops.tensordot(original_instance, self.u_weight_params, axes=1))

            # w^T*(tanh(v*h_k^T)) / w^T*(tanh(v*h_k^T)*sigmoid(u*h_k^T))
            return ops.tensordot(instance, self.w_weight_params, axes=1)

    def create_model(instance_shape):
        # Extract features from inputs.
        inputs, embeddings = [], []
        shared_dense_layer_1 = layers.Dense(16, activation="relu")
        shared_dense_layer_2 = layers.Dense(8, activation="relu")
        for _ in range(BAG_SIZE):
            inp = layers.Input(instance_shape)
            flatten = layers.Flatten()(inp)
            dense_1 = shared_dense_layer_1(flatten)
            dense_2 = shared_dense_layer_2(dense_1)
            inputs.append(inp)
            embeddings.append(dense_2)

        # Invoke the attention layer.
        alpha = MILAttentionLayer(
            weight_params_dim=16,
            kernel_regularizer=keras.regularizers.L2(0.01),
            use_gated=True,
            name="alpha",
        )(embeddings)

        # Multiply attention weights with the input layers.
        multiply_layers = [layers.multiply([alpha[i], embeddings[i]]) for i in range(len(alpha))]

        # Concatenate layers.
        concat = layers.concatenate(multiply_layers, axis=1)

        # Classification output node.
        output = layers.Dense(2, activation="softmax")(concat)

        return keras.Model(inputs, output)

    def compute_class_weights(labels):
        # Count number of positive and negative bags.
        negative_count = len(np.where(labels == 0)[0])
        positive_count = len(np.where(labels == 1)[0])
        total_count = negative_count + positive_count

        # Build class weight dictionary.
        return {
            0: (1 / negative_count) * (total_count / 2),
            1: (1 / positive_count) * (total_count / 2),
        }

    histories = []

    def train(train_data, train_labels, val_data, val_labels, model, folder):
        file_path = os.path.join(folder, "best_model.weights.h5")

        # Initialize model checkpoint callback.
        model_checkpoint = keras.callbacks.ModelCheckpoint(
            file_path,
            monitor="val_loss",
            verbose=0,
            mode="min",
            save_best_only=True,
            save_weights_only=True,
        )

        # Initialize early stopping callback.
        early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, mode="min")

        # Compile model.
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

        if on_model:
            on_model(model)
        # Fit model.
        histories.append(
            model.fit(
                train_data,
                train_labels,
                validation_data=(val_data, val_labels),
                epochs=3,
                class_weight=compute_class_weights(train_labels),
                batch_size=1,
                callbacks=[early_stopping, model_checkpoint],
                shuffle=shuffle,
                verbose=0,
            )
        )

        # Load best weights.
        model.load_weights(file_path)

        return model

    # Building model(s).
    instance_shape = train_data[0][0].shape
    models = [create_model(instance_shape) for _ in range(ENSEMBLE_AVG_COUNT)]
    models[0].summary(print_fn=lambda *a, **k: None)

    # Training model(s).
    with tempfile.TemporaryDirectory() as folder:
        trained_models = [train(train_data, train_labels, val_data, val_labels, model, folder) for model in models]

    def predict(data, labels, trained_models):
        # Collect info per model.
        models_predictions = []
        models_attention_weights = []
        models_losses = []
        models_accuracies = []

        for model in trained_models:
            # Predict output classes on data.
            predictions = model.predict(data, verbose=0)
            models_predictions.append(predictions)

            # Create intermediate model to get MIL attention layer weights.
            intermediate_model = keras.Model(model.input, model.get_layer("alpha").output)

            # Predict MIL attention layer weights.
            intermediate_predictions = intermediate_model.predict(data, verbose=0)

            attention_weights = np.squeeze(np.swapaxes(intermediate_predictions, 1, 0))
            models_attention_weights.append(attention_weights)

            loss, accuracy = model.evaluate(data, labels, verbose=0)
            models_losses.append(loss)
            models_accuracies.append(accuracy)

        return (
            np.sum(models_predictions, axis=0) / ENSEMBLE_AVG_COUNT,
            np.sum(models_attention_weights, axis=0) / ENSEMBLE_AVG_COUNT,
            float(np.mean(models_losses)),
        )

    # Evaluate and predict classes and attention scores on validation data.
    class_predictions, attention_params, loss = predict(val_data, val_labels, trained_models)
    assert class_predictions.shape == (VAL_BAG_COUNT, 2), class_predictions.shape
    assert attention_params.shape == (VAL_BAG_COUNT, BAG_SIZE), attention_params.shape
    np.testing.assert_allclose(attention_params.sum(axis=1), 1.0, rtol=1e-5)
    history = histories[0]
    history.results = {"predict": {"loss": [loss], "attention": attention_params.ravel().tolist()}}
    return history
