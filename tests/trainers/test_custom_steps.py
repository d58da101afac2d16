"""Subclassed models and overridden train_step/test_step, as in Keras's custom-training guide."""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers


class MLP(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense_1 = layers.Dense(16, activation="relu")
        self.dense_2 = layers.Dense(1)

    def call(self, inputs):
        return self.dense_2(self.dense_1(inputs))


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 8)).astype("float32")
    return x, x.sum(1, keepdims=True)


def test_subclassed_model_fits_numpy_data():
    x, y = _data()
    model = MLP()
    model(torch.zeros((1, 8)))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (64, 1)


class CountingModel(MLP):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def train_step(self, data):
        self.calls += 1
        x, y = data  # Keras's step data: no sample weight was given
        self.optimizer.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        loss.backward()
        self.optimizer.step()
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred)


def test_overridden_train_step_is_used():
    x, y = _data()
    model = CountingModel()
    model(torch.zeros((1, 8)))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert model.calls == 12
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
