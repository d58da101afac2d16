"""Callbacks driven by a real `fit`: interruption and resumption, checkpoints, schedules."""

import numpy as np
import pytest

import keraslike as keras
from keraslike import layers


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("simulated crash")


def _model(seed_weights=None):
    inputs = keras.Input((5,))
    outputs = layers.Dense(1)(layers.Dense(8, activation="tanh")(inputs))
    model = keras.Model(inputs, outputs)
    if seed_weights is not None:
        model.set_weights(seed_weights)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype("float32")
    return x, x.sum(1, keepdims=True)


def test_backup_and_restore_resumes_to_the_same_weights(tmp_path):
    x, y = _data()
    initial = _model().get_weights()
    reference = _model(initial)
    reference.fit(x, y, epochs=4, batch_size=16, shuffle=False, verbose=0)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    crashed = _model(initial)
    with pytest.raises(KeyboardInterrupt):
        crashed.fit(x, y, epochs=4, batch_size=16, shuffle=False, verbose=0, callbacks=[backup, _Interrupt(2)])
    resumed = _model(initial)  # a fresh process would rebuild the model the same way
    history = resumed.fit(x, y, epochs=4, batch_size=16, shuffle=False, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    assert history.epoch == [2, 3]
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    pytest.importorskip("keraslike.saving")
    x, y = _data()
    model = _model()
    path = str(tmp_path / "best.weights.safetensors")
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True)
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[checkpoint])
    best = int(np.argmin(history.history["loss"]))
    restored = _model()
    restored.load_weights(path)
    if best == 4:
        for a, b in zip(restored.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(
        min(model.evaluate(x, y, verbose=0), restored.evaluate(x, y, verbose=0))
    )


def test_learning_rate_scheduler_sets_the_optimizer_rate():
    x, y = _data()
    model = _model()
    seen = []
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    spy = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(float(model.optimizer.learning_rate)))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule, spy])
    assert seen == pytest.approx([0.1, 0.05, 0.1 / 3])
