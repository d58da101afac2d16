"""Port of keras-io `examples/keras_recipes/debugging_tips.py` (fchollet).

Changed: data (`keras.datasets.mnist` -> seeded synthetic float vectors (n, 784) in [0, 1] and
integer labels 0-9, n=512), Dense width 256 -> 32, epochs 3 / 5 -> 2, batch size 1024 -> 128,
prints -> records (kept in `History.results`), `plot_model` dropped, the library passed in as
`keras`. The TF edition's `tf.GradientTape` pair becomes torch autograd (the second tape's
gradient of the first-order gradients is `torch.autograd.grad` of them with `create_graph=True`,
summed over each gradient as a tape does): `loss.backward(create_graph=True)`, the
`v.value.grad`s read, then `.backward()` of their sum (`torch.autograd.grad(loss,
[v.value ...])` cannot be used on keraslike: a Dense kernel's `v.value` is a Keras-layout view
of the stored weight, not on the forward graph), `tf.nn.relu` / `tf.concat` / `tf.matmul` /
`tf.math.l2_normalize` -> `keras.ops`, and Keras 3's `compute_loss` / `compute_metrics` replace
the removed `compiled_loss` / `compiled_metrics`; the step returns its batch loss as "loss" (Keras 3's
`compute_loss` does not feed the loss tracker a custom step reports). Kept: `MyAntirectifier` (the buggy axis-0
edition raising on a shape mismatch, then the fixed one), the three-input two-output model and
its summary, `MyModel.train_step` (first- and second-order gradients, normalized, combined
0.2 / 0.8) with `run_eagerly=True`, `steps_per_epoch=10` and `validation_split=0.1`, and the
final run's learning-rate schedule (`keras.optimizers.schedules.InverseTimeDecay`).
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the last fit's History.

    `on_model(model)` is called on each model before it trains; `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    class BuggyAntirectifier(layers.Layer):
        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim),
                initializer="he_normal",
                name="kernel",
                trainable=True,
            )

        def call(self, inputs):
            pos = ops.relu(inputs)
            neg = ops.relu(-inputs)
            concatenated = ops.concatenate([pos, neg], axis=0)
            return ops.matmul(concatenated, self.kernel)

    class MyAntirectifier(layers.Layer):
        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim),
                initializer="he_normal",
                name="kernel",
                trainable=True,
            )

        def call(self, inputs):
            pos = ops.relu(inputs)
            neg = ops.relu(-inputs)
            concatenated = ops.concatenate([pos, neg], axis=1)
            return ops.matmul(concatenated, self.kernel)

    x = keras.random.normal(shape=(2, 5))
    try:
        BuggyAntirectifier()(x)
    except Exception as e:  # the tip's point: the matmul of (4, 5) by (10, 5) fails
        failed = type(e).__name__
    else:
        failed = None
    assert failed is not None, "the buggy layer ran"
    y = MyAntirectifier()(x)
    assert tuple(y.shape) == (2, 5)

    # Tip 2: the multi-input, multi-output model and its summary.
    num_tags, num_words, num_departments = 12, 1000, 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64)(title_input)
    body_features = layers.Embedding(num_words, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs=[priority_pred, department_pred],
    )
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    summary = "\n".join(lines)
    assert "priority" in summary and "department" in summary
    assert model.count_params() == 1000 * 64 * 2 + 4 * 128 * (64 + 128 + 1) + 4 * 32 * (64 + 32 + 1) + (128 + 32 + 12 + 1) * 5

    # Tip 3: a train_step combining first- and second-order gradients.
    def gradients(model, inputs, targets):
        trainable_vars = model.trainable_variables
        model.zero_grad()
        preds = model(inputs, training=True)  # Forward pass
        loss = model.compute_loss(y=targets, y_pred=preds)
        # Compute first-order gradients (kept on the graph, as the outer tape records them)
        loss.backward(create_graph=True)
        dl_dw = [v.value.grad for v in trainable_vars]
        # Compute second-order gradients (a tape's gradient of a list sums its entries)
        model.zero_grad()
        sum(ops.sum(g) for g in dl_dw).backward()
        d2l_dw2 = [v.value.grad for v in trainable_vars]
        model.zero_grad()
        return loss.detach(), preds.detach(), [g.detach() for g in dl_dw], d2l_dw2

    class MyModel(keras.Model):
        def train_step(self, data):
            inputs, targets = data
            trainable_vars = self.trainable_variables
            loss, preds, dl_dw, d2l_dw2 = gradients(self, inputs, targets)

            dl_dw = [w / ops.sqrt(ops.maximum(ops.sum(w * w), 1e-12)) for w in dl_dw]
            d2l_dw2 = [w / ops.sqrt(ops.maximum(ops.sum(w * w), 1e-12)) for w in d2l_dw2]

            # Combine first-order and second-order gradients
            grads = [0.2 * w1 + 0.8 * w2 for (w1, w2) in zip(d2l_dw2, dl_dw)]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(grads, trainable_vars)

            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(targets, preds)
            # Return a dict mapping metric names to current value
            return {m.name: m.result() for m in self.metrics}

    def get_model():
        inputs = keras.Input(shape=(784,))
        intermediate = layers.Dense(32, activation="relu")(inputs)
        outputs = layers.Dense(10, activation="softmax")(intermediate)
        model = MyModel(inputs, outputs)
        return model

    x_train = rng.random((512, 784)).astype("float32")
    y_train = rng.integers(0, 10, size=(512,))

    model = get_model()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    on_model(model)
    first = model.fit(x_train, y_train, epochs=1, batch_size=128, verbose=0, steps_per_epoch=3, shuffle=shuffle)
    results["steps_per_epoch"] = first.history

    lr = keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=0.1, decay_steps=25, decay_rate=0.1
    )
    model = get_model()
    model.compile(
        optimizer=keras.optimizers.SGD(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    on_model(model)
    history = model.fit(x_train, y_train, epochs=2, batch_size=128, validation_split=0.1, verbose=0, shuffle=shuffle)
    history.results = results
    return history
