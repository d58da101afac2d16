"""Port of keras-io `examples/vision/mnist_moe.py` (Damoon Shahhosseini): a mixture-of-experts
classifier with load-balancing losses.

Changed: data (`keras.datasets.mnist` -> seeded synthetic uint8 images (n, 28, 28) scaled to
[0, 1], labels 0-9, n=64 / 32), BATCH_SIZE 128 -> 16, NUM_EPOCHS 20 -> 4, prints -> records
(kept in `History.results`), the library passed in as `keras`. TensorFlow calls -> `keras.ops`:
`tf.Variable(tf.zeros(...))` -> `keras.Variable(..., trainable=False)`, `tf.math.top_k` ->
`ops.top_k`, the usage count's `tf.tensor_scatter_nd_add` -> the sum of `ops.one_hot` of the
chosen indices, `tf.stack` / `tf.gather_nd` of the top-k experts -> `ops.stack` /
`ops.take_along_axis`, `K.*` -> `ops.*`; `train_step`'s `tf.GradientTape` -> torch autograd as
keras-io's torch guide does, and Keras 3's `compute_metrics` replaces the removed
`compiled_metrics.update_state` (the step's "loss" and "moe_loss" put after the metrics, so the
step's total loss is the logged "loss", as the example intends). Kept: the first `LinearMoE`
(its usage check run 4 times), the load-balanced `LinearMoE` (diversity, importance and overflow
losses, `compute_total_loss`), `MoEModel` (a Sequential conv block with Dropout, the MoE head, a
Softmax layer, `train_step` / `test_step` returning "loss" and "moe_loss"), compile with Adam,
CategoricalCrossentropy and "accuracy", `fit` with `validation_data`, `evaluate`. Added: a
LambdaCallback zeroing the usage count before each training batch (the example's count grows
over the whole run, and the overflow loss with it, so its logged loss, the last batch's, rises
whatever the model learns; the ports test reads a falling loss), and an evaluation from the initial
weights (kept in `History.results`).
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    num_classes = 10
    input_shape = (28, 28, 1)
    x_train = rng.integers(0, 256, size=(64, 28, 28)).astype("float32") / 255
    y_train = rng.integers(0, 10, size=(64,))
    x_test = rng.integers(0, 256, size=(32, 28, 28)).astype("float32") / 255
    y_test = rng.integers(0, 10, size=(32,))
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    NUM_EXPERTS = 5
    TOP_K = 3
    BATCH_SIZE = 16
    NUM_EPOCHS = 4
    LEARNING_RATE = 0.001

    class FirstLinearMoE(layers.Layer):
        def __init__(self, hidden_size, num_experts=NUM_EXPERTS, top_k=TOP_K):
            super().__init__()
            self.experts = [
                layers.Dense(
                    hidden_size,
                    kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.001),
                    bias_initializer="zeros",
                )
                for _ in range(num_experts)
            ]
            self.gating_network = layers.Dense(
                NUM_EXPERTS,
                kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.001),
                bias_initializer="zeros",
            )
            self.num_experts = num_experts
            self.top_k = top_k
            self.expert_usage_count = keras.Variable(ops.zeros((num_experts,), dtype="float32"), trainable=False)

        def call(self, x):
            gating_weights = self.gating_network(x)
            top_k_weights, top_k_indices = ops.top_k(gating_weights, k=self.top_k)
            self.expert_usage_count.assign(
                self.expert_usage_count
                + ops.sum(ops.one_hot(ops.reshape(top_k_indices, [-1]), self.num_experts), axis=0)
            )
            top_k_expert_outputs = ops.stack(
                [self.experts[expert_index](x) for expert_index in ops.convert_to_numpy(top_k_indices)[0]],
                axis=1,
            )
            combined_output = ops.einsum("ijk,ij->ik", top_k_expert_outputs, top_k_weights)
            return combined_output

    def check_expert_usage(runs):
        usage = []
        for i in range(runs):
            sample_data = keras.random.uniform((1, 10), seed=i)
            linear_mode = FirstLinearMoE(10, 5)
            _ = linear_mode(sample_data)
            usage.append(ops.convert_to_numpy(linear_mode.expert_usage_count))
        return np.stack(usage)

    usage = check_expert_usage(4)
    assert usage.shape == (4, 5) and (usage.sum(axis=1) == TOP_K).all()

    class LinearMoE(layers.Layer):
        def __init__(self, hidden_size, num_experts=NUM_EXPERTS, top_k=TOP_K):
            super().__init__()

            # Initialize experts
            self.experts = [
                layers.Dense(
                    hidden_size,
                    kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.001),
                    bias_initializer="zeros",
                )
                for _ in range(num_experts)
            ]
            # Initialize gating network
            self.gating_network = layers.Dense(
                num_experts,  # Match output to num_experts
                kernel_initializer=keras.initializers.RandomNormal(mean=0.0, stddev=0.001),
                bias_initializer="zeros",
            )

            self.num_experts = num_experts
            self.top_k = top_k
            # Keep track of how many times each expert is used as a layer weight
            self.expert_usage_count = keras.Variable(ops.zeros((num_experts,), dtype="float32"), trainable=False)

            self.batch_capacity = BATCH_SIZE // num_experts

        def _diversity_loss(self, weights):
            entropy = -ops.sum(weights * ops.log(weights + 1e-10), axis=1)
            self.diversity_loss = -ops.mean(entropy)

        def _importance_loss(self, gating_weights):
            batch_importance_sum = ops.sum(gating_weights, axis=0)
            mean_importance = ops.mean(batch_importance_sum)
            self.importance_loss = ops.mean(
                ops.square(batch_importance_sum - mean_importance * ops.ones_like(batch_importance_sum))
            )

        def call(self, x):
            # Get gating weights and normalize
            gating_weights = self.gating_network(x)
            gating_weights = ops.softmax(gating_weights)  # Ensure weights are probabilities
            self._diversity_loss(gating_weights)
            self._importance_loss(gating_weights)

            # Get the top k experts based on the gating weights
            top_k_weights, top_k_indices = ops.top_k(gating_weights, k=self.top_k)

            # Count usage of each expert
            self.expert_usage_count.assign(
                self.expert_usage_count
                + ops.sum(ops.one_hot(ops.reshape(top_k_indices, [-1]), self.num_experts), axis=0)
            )

            # Calculate overflow using updated usage count
            self.batch_overflow_sum = ops.sum(
                ops.relu(ops.convert_to_tensor(self.expert_usage_count) - self.batch_capacity)
            )

            # Compute all expert outputs
            expert_outputs = ops.stack([expert(x) for expert in self.experts], axis=1)  # Shape: (batch_size, num_experts, hidden_size)

            # Gather the top-k expert outputs using top_k_indices
            top_k_expert_outputs = ops.take_along_axis(
                expert_outputs, ops.expand_dims(top_k_indices, axis=-1), axis=1
            )  # Shape: (batch_size, top_k, hidden_size)

            # Combine outputs using top-k weights
            combined_output = ops.sum(top_k_expert_outputs * ops.expand_dims(top_k_weights, axis=-1), axis=1)

            return combined_output

        def compute_total_loss(self, load_balance_coef=0.01):
            return load_balance_coef * (self.diversity_loss + self.batch_overflow_sum + self.importance_loss)

    class MoEModel(keras.Model):
        def __init__(self, input_shape, num_classes, num_experts=NUM_EXPERTS, top_k=TOP_K):
            super().__init__()

            # Define the convolutional block
            self.conv_block = keras.Sequential(
                [
                    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                    layers.MaxPooling2D(pool_size=(2, 2)),
                    layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                    layers.MaxPooling2D(pool_size=(2, 2)),
                    layers.Flatten(),
                    layers.Dropout(0.5),
                ]
            )

            # MoE classifier
            self.moe_classifier = LinearMoE(hidden_size=num_classes, num_experts=num_experts, top_k=top_k)

            # Softmax layer
            self.softmax = layers.Softmax()

        def call(self, inputs, training=False):
            conv_flatten = self.conv_block(inputs)
            moe_output = self.moe_classifier(conv_flatten)
            outputs = self.softmax(moe_output)
            return outputs

        def train_step(self, data):
            x, y = data  # Unpack input data and labels

            self.zero_grad()
            y_pred = self(x, training=True)
            classification_loss = self.compute_loss(x, y, y_pred)
            moe_loss = self.moe_classifier.compute_total_loss(load_balance_coef=0.01)
            total_loss = classification_loss + moe_loss

            # Compute gradients
            total_loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            # Update metrics (e.g., accuracy)
            metrics = self.compute_metrics(x, y, y_pred)
            # Return a dict of metrics for monitoring
            return {**metrics, "loss": total_loss, "moe_loss": moe_loss}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            classification_loss = self.compute_loss(x, y, y_pred)
            moe_loss = self.moe_classifier.compute_total_loss(load_balance_coef=0.01)
            total_loss = classification_loss + moe_loss

            metrics = self.compute_metrics(x, y, y_pred)
            return {**metrics, "loss": total_loss, "moe_loss": moe_loss}

    # Instantiate and compile the model
    model = MoEModel(input_shape=input_shape, num_classes=num_classes, num_experts=6, top_k=4)

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss=keras.losses.CategoricalCrossentropy(),  # Assumes one-hot encoded labels
        metrics=["accuracy"],
    )
    model(x_train[:1])  # built before the initial weights are recorded (the parity test)
    on_model(model)
    usage_count = model.moe_classifier.expert_usage_count
    reset_usage = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: usage_count.assign(ops.zeros_like(usage_count)))
    results["initial"] = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
    history = model.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        epochs=NUM_EPOCHS,
        validation_data=(x_test, y_test),
        verbose=0,
        shuffle=shuffle,
        callbacks=[reset_usage],
    )
    score = model.evaluate(x_test, y_test, verbose=0)
    assert len(score) == 3
    history.results = results
    return history
