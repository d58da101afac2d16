"""Port of keras-io `examples/vision/forwardforward.py` (Using the Forward-Forward algorithm for
image classification, Suvaditya Mukherjee).

Changed: data (MNIST -> seeded synthetic float32 images (n, 28, 28) in [0, 1], 64 train and 12
test, labels 0-9 in turn, each class brightening its own rows, the top-left 10 pixels zero as
in MNIST), `dims` [784, 500, 500] -> [784, 64, 64], each layer's inner epochs 50 -> 5, epochs
250 -> 3 (one batch of all 64 training images per epoch, as the original's one batch of
60,000), `verbose=0`, the sample and loss plots dropped, `accuracy_score` -> numpy, the
library passed in as `keras`. TensorFlow calls -> `keras.ops` / numpy: `tf.norm` ->
`ops.norm`, `tf.math.*` -> `ops.*`, the `tf.Variable`s -> `keras.Variable`s,
`tf.random.shuffle` -> `keras.random.shuffle`, `tf.stop_gradient` -> `ops.stop_gradient`,
`overlay_y_on_x`'s `xla.dynamic_update_slice` -> the same update written with `ops` (the
first 10 pixels replaced by the label's one-hot scaled by the image's maximum) and its
`tf.map_fn` over samples -> that update on the whole batch, `predict`'s `tf.map_fn` -> a loop
over the samples, `tf.reduce_sum(goodness, keepdims=True)` -> `ops.sum` over both axes named
(Keras 3's `ops.sum(x, keepdims=True)` without `axis` returns a 0-d tensor on torch, not
numpy's `(1, 1)`), `tf.function` / `jit_compile=True` dropped (no XLA on torch),
`tf.GradientTape` -> `torch.autograd.grad`. Keras 3 refuses an optimizer applied to a second
set of variables ("Unknown variable"): the network's one `layer_optimizer`, shared by the
layers in the original, is copied for each layer from its config. Keras 3 on torch cannot
build a model without `call()` from its first batch: the layers are built and the model and
its compiled loss before `fit`. The compiled `metrics=[keras.metrics.Mean()]` (never updated
by the `train_step`) is dropped: building it calls `Mean.update_state(y_true, y_pred,
sample_weight=...)`, a TypeError in Keras 3. Kept: `FFDense` (its own optimizer and `Mean`
loss metric, the normalised `call`, `forward_forward` with the softplus goodness loss),
`FFNetwork` (the `keras.Input` in its layer list, `overlay_y_on_x`, `predict_one_sample`,
`predict`, `train_step` over `self.layers`, the `loss_var` / `loss_count` running mean),
compile with Adam(0.03) and "mse". The returned History keeps the original's
"FinalLoss" and the same numbers as "loss" (the tests read that name); `History.results`
keeps the test predictions' accuracy.
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains; `shuffle` goes to `fit`.
    """
    ops = keras.ops
    on_model = on_model or (lambda model: None)
    rng = np.random.default_rng(0)

    def make(n):
        y = np.arange(n) % 10
        x = rng.uniform(0, 0.3, (n, 28, 28))
        for i, label in enumerate(y):
            x[i, 2 + 2 * label : 4 + 2 * label] += 0.7
        x[:, 0, :10] = 0.0
        return x.astype("float32"), y.astype("int64")

    (x_train, y_train), (x_test, y_test) = make(64), make(12)

    class FFDense(keras.layers.Layer):
        """
        A custom ForwardForward-enabled Dense layer. It has an implementation of the
        Forward-Forward network internally for use.
        This layer must be used in conjunction with the `FFNetwork` model.
        """

        def __init__(
            self,
            units,
            optimizer,
            loss_metric,
            num_epochs=5,
            use_bias=True,
            kernel_initializer="glorot_uniform",
            bias_initializer="zeros",
            kernel_regularizer=None,
            bias_regularizer=None,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(
                units=units,
                use_bias=use_bias,
                kernel_initializer=kernel_initializer,
                bias_initializer=bias_initializer,
                kernel_regularizer=kernel_regularizer,
                bias_regularizer=bias_regularizer,
            )
            self.relu = keras.layers.ReLU()
            self.optimizer = optimizer
            self.loss_metric = loss_metric
            self.threshold = 1.5
            self.num_epochs = num_epochs

        # We perform a normalization step before we run the input through the Dense
        # layer.

        def call(self, x):
            x_norm = ops.norm(x, ord=2, axis=1, keepdims=True)
            x_norm = x_norm + 1e-4
            x_dir = x / x_norm
            res = self.dense(x_dir)
            return self.relu(res)

        def forward_forward(self, x_pos, x_neg):
            for i in range(self.num_epochs):
                g_pos = ops.mean(ops.power(self.call(x_pos), 2), 1)
                g_neg = ops.mean(ops.power(self.call(x_neg), 2), 1)

                loss = ops.log(1 + ops.exp(ops.concatenate([-g_pos + self.threshold, g_neg - self.threshold], 0)))
                mean_loss = ops.cast(ops.mean(loss), "float32")
                self.loss_metric.update_state([mean_loss])
                weights = self.dense.trainable_weights
                gradients = torch.autograd.grad(mean_loss, [w.value for w in weights])
                with torch.no_grad():
                    self.optimizer.apply_gradients(zip(gradients, weights))
            return (
                ops.stop_gradient(self.call(x_pos)),
                ops.stop_gradient(self.call(x_neg)),
                self.loss_metric.result(),
            )

    class FFNetwork(keras.Model):
        """
        A `keras.Model` that supports a `FFDense` network creation. This model
        can work for any kind of classification task. It has an internal
        implementation with some details specific to the MNIST dataset which can be
        changed as per the use-case.
        """

        def __init__(self, dims, layer_optimizer=keras.optimizers.Adam(learning_rate=0.03), **kwargs):
            super().__init__(**kwargs)
            self.layer_optimizer = layer_optimizer
            self.loss_var = keras.Variable(0.0, trainable=False, dtype="float32")
            self.loss_count = keras.Variable(0.0, trainable=False, dtype="float32")
            self.layer_list = [keras.Input(shape=(dims[0],))]
            for d in range(len(dims) - 1):
                self.layer_list += [
                    FFDense(
                        dims[d + 1],
                        optimizer=type(self.layer_optimizer).from_config(self.layer_optimizer.get_config()),
                        loss_metric=keras.metrics.Mean(),
                    )
                ]

        # The first 10 pixels of each image replaced by the one-hot label scaled by the
        # image's maximum (for a batch of flattened images and their labels).
        def overlay_y_on_x(self, data):
            X_sample, y_sample = data
            max_sample = ops.max(X_sample, axis=1, keepdims=True)
            X_update = ops.one_hot(y_sample, 10, dtype=X_sample.dtype) * max_sample
            X_sample = ops.concatenate([X_update, X_sample[:, 10:]], axis=1)
            return X_sample, y_sample

        def predict_one_sample(self, x):
            goodness_per_label = []
            x = ops.reshape(x, [1, ops.shape(x)[0] * ops.shape(x)[1]])
            for label in range(10):
                h, label = self.overlay_y_on_x(data=(x, ops.convert_to_tensor([label])))
                goodness = []
                for layer_idx in range(1, len(self.layer_list)):
                    layer = self.layer_list[layer_idx]
                    h = layer(h)
                    goodness += [ops.mean(ops.power(h, 2), 1)]
                goodness_per_label += [ops.expand_dims(ops.sum(ops.stack(goodness), axis=(0, 1), keepdims=True), 1)]
            goodness_per_label = ops.concatenate(goodness_per_label, 1)
            return ops.cast(ops.argmax(goodness_per_label, 1), "float64")

        def predict(self, data):
            x = data
            preds = [ops.convert_to_numpy(self.predict_one_sample(ops.convert_to_tensor(sample))) for sample in x]
            return np.asarray(preds, dtype=int)

        def train_step(self, data):
            x, y = data

            # Flatten op
            x = ops.reshape(x, [-1, ops.shape(x)[1] * ops.shape(x)[2]])

            x_pos, y = self.overlay_y_on_x((x, y))

            random_y = keras.random.shuffle(y)
            x_neg, y = self.overlay_y_on_x((x, random_y))

            h_pos, h_neg = x_pos, x_neg

            for idx, layer in enumerate(self.layers):
                if isinstance(layer, FFDense):
                    h_pos, h_neg, loss = layer.forward_forward(h_pos, h_neg)
                    self.loss_var.assign_add(loss)
                    self.loss_count.assign_add(1.0)
                else:
                    x = layer(x)
            mean_res = ops.divide(self.loss_var, self.loss_count)
            return {"FinalLoss": mean_res}

    model = FFNetwork(dims=[784, 64, 64])

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.03),
        loss="mse",
    )
    # What Keras 3 on torch cannot build from the first batch (the model has no `call()`).
    h = keras.ops.zeros((1, 784))
    for layer in model.layer_list[1:]:
        h = layer(h)
    model.built = True
    target = ops.zeros((1, 1))
    model.compute_loss(y=target, y_pred=target)
    on_model(model)

    epochs = 3
    history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0, shuffle=shuffle)
    history.history["loss"] = list(history.history["FinalLoss"])

    preds = model.predict(ops.convert_to_tensor(x_test))
    preds = preds.reshape((preds.shape[0], preds.shape[1]))
    history.results = {"test": {"accuracy": [float(np.mean(preds[:, 0] == y_test))],
                                "layer_losses": [float(ops.convert_to_numpy(layer.loss_metric.result()))
                                                 for layer in model.layer_list[1:]]}}
    return history
