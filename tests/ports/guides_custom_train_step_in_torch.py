"""Port of keras-io `guides/custom_train_step_in_torch.py` (Customizing what happens in `fit()`
with PyTorch, fchollet), its first four sections.

Changed: data (the guide's random arrays, seeded, n=1000 -> 64), epochs 3 / 5 -> 3, `verbose=0`,
the library passed in as `keras`. The four `CustomModel` classes are the guide's: `train_step`
with `compute_loss` and the compiled metrics, a lower-level one with its own `Mean` /
`MeanAbsoluteError` trackers and `metrics` property, one unpacking `sample_weight`, and a
custom `test_step` used by `evaluate`. The GAN section is `guides_custom_train_step_in_torch_gan`.
Returned: the History of the `sample_weight` section.
"""

import numpy as np
import torch


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns a History.

    `on_model(model)` is called on each model before it trains or evaluates and `shuffle` goes
    to `fit` (the parity test copies Keras's initial weights in and trains unshuffled).
    """
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = rng.random((64, 32))
    y = rng.random((64, 1))
    on_model(model)
    results["first"] = model.fit(x, y, epochs=3, verbose=0, shuffle=shuffle).history
    assert sorted(results["first"]) == ["loss", "mae"], sorted(results["first"])

    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {
                "loss": self.loss_tracker.result(),
                "mae": self.mae_metric.result(),
            }

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam")
    x = rng.random((64, 32))
    y = rng.random((64, 1))
    on_model(model)
    results["lower_level"] = model.fit(x, y, epochs=3, verbose=0, shuffle=shuffle).history

    class CustomModel(keras.Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
            )
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = rng.random((64, 32))
    y = rng.random((64, 1))
    sw = rng.random((64, 1))
    on_model(model)
    history = model.fit(x, y, sample_weight=sw, epochs=3, verbose=0, shuffle=shuffle)

    class CustomModel(keras.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])
    x = rng.random((64, 32))
    y = rng.random((64, 1))
    on_model(model)
    results["evaluate"] = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(results["evaluate"]) == ["loss", "mae"], results["evaluate"]
    history.results = results
    return history
