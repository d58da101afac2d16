"""ReduceLROnPlateau and LearningRateScheduler replayed against Keras's on the same logs."""

import math

import numpy as np
import pytest
import torch

from keraslike import callbacks
from tests.callbacks.helpers import FakeModel, float32_sequence, run_captured


def _drive(callback, values, monitor="val_loss", lr=0.01):
    """Returns (learning rate after each epoch, the logs each epoch ended with, stdout)."""
    model = FakeModel(learning_rate=lr)
    lrs, all_logs = [], []

    def run(clock):
        callback.set_model(model)
        callback.set_params({"verbose": 0, "epochs": len(values), "steps": 1})
        callback.on_train_begin({})
        for epoch, value in enumerate(values):
            callback.on_epoch_begin(epoch, {})
            logs = {"loss": 1.0, monitor: value}
            callback.on_epoch_end(epoch, logs)
            lrs.append(float(model.optimizer.learning_rate))
            all_logs.append(logs)
        callback.on_train_end({})

    return lrs, all_logs, run_captured(run)


PLATEAU_SETTINGS = [
    dict(),
    dict(patience=2, verbose=1),
    dict(patience=1, factor=0.5, cooldown=2, verbose=1),
    dict(patience=1, factor=0.1, min_lr=1e-4, verbose=1),
    dict(patience=2, min_delta=0.1, mode="max", verbose=1),
    dict(patience=0, factor=0.9, cooldown=1),
]


@pytest.mark.parametrize("settings", PLATEAU_SETTINGS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reduce_lr_on_plateau_matches_keras(keras_callbacks, settings, seed):
    values = float32_sequence(25, seed=seed)
    ours = _drive(callbacks.ReduceLROnPlateau(**settings), values)
    theirs = _drive(keras_callbacks.ReduceLROnPlateau(**settings), values)
    assert ours == theirs  # rates, logs (with `learning_rate`), messages


def test_reduce_lr_on_plateau_sequence():
    # Flat loss, patience 2: reduced after epochs 3 and 5 (1-based), never below min_lr.
    lrs, logs, out = _drive(
        callbacks.ReduceLROnPlateau(patience=2, factor=0.5, min_lr=0.03, verbose=1),
        [1.0] * 7, lr=0.1,
    )
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    assert lrs == [f32(0.1), f32(0.1), f32(0.05), f32(0.05), f32(0.03), f32(0.03), f32(0.03)]
    assert logs[0]["learning_rate"] == f32(0.1)
    assert out.startswith("\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.05000000")


def test_reduce_lr_factor_must_be_below_one():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def _schedule_halving(epoch, lr):
    return lr if epoch < 2 else lr * 0.5


def _schedule_exp(epoch, lr):
    return float(lr * math.exp(-0.1))


def _schedule_epoch_only(epoch):
    return 0.1 / (epoch + 1)


@pytest.mark.parametrize("schedule", [_schedule_halving, _schedule_exp, _schedule_epoch_only])
@pytest.mark.parametrize("verbose", [0, 1])
def test_learning_rate_scheduler_matches_keras(keras_callbacks, schedule, verbose):
    values = [1.0] * 5
    ours = _drive(callbacks.LearningRateScheduler(schedule, verbose=verbose), values)
    theirs = _drive(keras_callbacks.LearningRateScheduler(schedule, verbose=verbose), values)
    assert ours == theirs


def test_learning_rate_scheduler_passes_a_float_and_sets_the_rate():
    seen = []

    def schedule(epoch, lr):
        seen.append(lr)
        return 0.5 ** (epoch + 1)

    lrs, logs, out = _drive(callbacks.LearningRateScheduler(schedule, verbose=1), [1.0] * 3)
    assert all(type(v) is float for v in seen)
    assert lrs == [0.5, 0.25, 0.125]
    assert [log["learning_rate"] for log in logs] == [0.5, 0.25, 0.125]
    assert out == "".join(
        f"\nEpoch {e + 1}: LearningRateScheduler setting learning rate to {0.5 ** (e + 1)}.\n"
        for e in range(3)
    )


def test_learning_rate_scheduler_rejects_non_float():
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: 1)
    cb.set_model(FakeModel())
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        cb.on_epoch_begin(0)


def test_learning_rate_scheduler_with_a_keraslike_optimizer():
    from keraslike.optimizers import SGD

    model = FakeModel()
    model.optimizer = SGD(learning_rate=0.1)
    model.optimizer.build(list(model.parameters()))
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    cb.set_model(model)
    cb.on_epoch_begin(0)
    assert isinstance(model.optimizer.learning_rate, torch.Tensor)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5)
    reduce.set_model(model)
    reduce.on_train_begin()
    reduce.on_epoch_end(0, {"loss": 1.0})
    reduce.on_epoch_end(1, {"loss": 1.0})
    assert float(model.optimizer.learning_rate) == pytest.approx(0.025)
