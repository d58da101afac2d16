"""Port of keras-io `examples/keras_recipes/trainer_pattern.py` (Trainer pattern, nkovela1,
Keras 3 edition).

Changed: data (`keras.datasets.mnist` -> synthetic uint8 images (n, 28, 28) and labels 0-9,
seeded, n=128 / 32, divided by 255.0 as the example does, so float64), Dense widths 256 / 512 ->
32 / 64, epochs 5 -> 2, `verbose=0`, the library passed in as `keras`. `train_step`'s
`tf.GradientTape` -> torch autograd as keras-io's torch guide does (`zero_grad`, `backward`,
`optimizer.apply` under `torch.no_grad()`). `MyTrainer` (a Model wrapping another model, its own
loss and metric with a `metrics` property, `train_step`, `test_step`, `call`), the Sequential
model with `Flatten(input_shape=(28, 28))`, the functional model whose Input is (28, 28, 1) and
is fed (n, 28, 28) images as in the example, and the two compile/fit calls (SGD, Adam) are the
example's. Added: each trainer evaluated from its initial weights and predictions compared
(kept in `History.results`), and a callback logging the training loss of each epoch as "loss"
(the example reports accuracy only; the ports test reads "loss").
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the second trainer's History.

    `on_model(model)` is called on each trainer before it evaluates and trains; `shuffle` goes to
    `fit`.
    """
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)

    x_train = rng.integers(0, 256, size=(128, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, size=(128,)).astype("uint8")
    x_test = rng.integers(0, 256, size=(32, 28, 28)).astype("uint8")
    y_test = rng.integers(0, 10, size=(32,)).astype("uint8")
    x_train, x_test = x_train / 255.0, x_test / 255.0

    class MyTrainer(keras.Model):
        def __init__(self, model):
            super().__init__()
            self.model = model
            # Create loss and metrics here.
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy()
            self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy()

        @property
        def metrics(self):
            # List metrics here.
            return [self.accuracy_metric]

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self.model(x, training=True)  # Forward pass
            # Compute loss value
            loss = self.loss_fn(y, y_pred)
            loss.backward()

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = [v.value.grad for v in trainable_vars]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_vars)

            # Update metrics
            for metric in self.metrics:
                metric.update_state(y, y_pred)

            # Return a dict mapping metric names to current value.
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data

            # Inference step
            y_pred = self.model(x, training=False)

            # Update metrics
            for metric in self.metrics:
                metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def call(self, x):
            # Equivalent to `call()` of the wrapped keras.Model
            x = self.model(x)
            return x

    class LossLog(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.losses = []

        def on_epoch_end(self, epoch, logs=None):
            y_pred = self.model.predict(x_train, verbose=0)
            self.losses.append(float(keras.ops.convert_to_numpy(self.model.loss_fn(y_train, y_pred))))

    # A model defined using Sequential API
    model_a = keras.models.Sequential(
        [
            keras.layers.Flatten(input_shape=(28, 28)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )

    # A model defined using Functional API
    func_input = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Flatten(input_shape=(28, 28))(func_input)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dropout(0.4)(x)
    func_output = keras.layers.Dense(10, activation="softmax")(x)

    model_b = keras.Model(func_input, func_output)

    trainer_1 = MyTrainer(model_a)
    trainer_2 = MyTrainer(model_b)

    results = {}
    trainer_1.compile(optimizer=keras.optimizers.SGD())
    on_model(trainer_1)
    results["trainer_1_initial"] = trainer_1.evaluate(x_test, y_test, verbose=0, return_dict=True)
    results["trainer_1_predict"] = {"probabilities": trainer_1.predict(x_test[:4], verbose=0).ravel().tolist()}
    log_1 = LossLog()
    history_1 = trainer_1.fit(x_train, y_train, epochs=2, batch_size=64, validation_data=(x_test, y_test),
                              verbose=0, shuffle=shuffle, callbacks=[log_1])
    assert sorted(history_1.history) == ["sparse_categorical_accuracy", "val_sparse_categorical_accuracy"], \
        sorted(history_1.history)

    trainer_2.compile(optimizer=keras.optimizers.Adam())
    on_model(trainer_2)
    results["trainer_2_initial"] = trainer_2.evaluate(x_test, y_test, verbose=0, return_dict=True)
    log_2 = LossLog()
    history = trainer_2.fit(x_train, y_train, epochs=2, batch_size=64, validation_data=(x_test, y_test),
                            verbose=0, shuffle=shuffle, callbacks=[log_2])
    history.history["loss"] = log_2.losses
    history.results = results
    return history
