"""EarlyStopping replayed on the same sequences of epoch logs as Keras's EarlyStopping."""

import itertools

import pytest
import torch

from keraslike import callbacks
from tests.callbacks.helpers import FakeModel, float32_sequence, run_captured


def _drive(callback, values, monitor="val_loss", max_epochs=None):
    """Runs epochs with `values` as the monitored quantity; each epoch writes its index into
    the weights. Returns (epochs run, final weights, stdout, callback)."""
    model = FakeModel()
    state = {}

    def run(clock):
        callback.set_model(model)
        callback.set_params({"verbose": 0, "epochs": len(values), "steps": 1})
        callback.on_train_begin({})
        logs = {}
        for epoch, value in enumerate(values):
            callback.on_epoch_begin(epoch, {})
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(float(epoch))
                model.moving.fill_(float(epoch))
            logs = {"loss": 1.0, monitor: value}
            callback.on_epoch_end(epoch, logs)
            state["epochs"] = epoch + 1
            if model.stop_training:
                break
        callback.on_train_end(logs)

    out = run_captured(run)
    return state["epochs"], {k: v.clone() for k, v in model.state_dict().items()}, out, callback


SEQUENCES = {
    "decreasing_then_flat": [1.0, 0.8, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6],
    "noisy": float32_sequence(20, seed=3),
    "noisy_2": float32_sequence(20, seed=11),
    "improving": [1.0 - 0.05 * i for i in range(12)],
    "small_gains": [1.0, 0.999, 0.998, 0.9975, 0.997, 0.9969, 0.9968, 0.99, 0.98, 0.98],
    "worse_first": [0.5, 0.7, 0.9, 0.4, 0.45, 0.46, 0.47, 0.48, 0.49],
}

SETTINGS = [
    dict(patience=0),
    dict(patience=2),
    dict(patience=3, min_delta=0.01),
    dict(patience=2, baseline=0.55),
    dict(patience=1, start_from_epoch=3),
    dict(patience=2, mode="max"),
    dict(patience=2, restore_best_weights=True, verbose=1),
    dict(patience=4, restore_best_weights=True, baseline=0.3, verbose=1),
    dict(patience=1, min_delta=-0.05, restore_best_weights=True, start_from_epoch=2, verbose=1),
]


@pytest.mark.parametrize(
    "sequence,settings",
    list(itertools.product(SEQUENCES, range(len(SETTINGS)))),
)
def test_early_stopping_matches_keras(keras_callbacks, sequence, settings):
    values, kwargs = SEQUENCES[sequence], SETTINGS[settings]
    ours = _drive(callbacks.EarlyStopping(**kwargs), values)
    theirs = _drive(keras_callbacks.EarlyStopping(**kwargs), values)
    assert ours[0] == theirs[0]  # the epoch where training stopped
    for key in ours[1]:
        torch.testing.assert_close(ours[1][key], theirs[1][key])
    assert ours[2] == theirs[2]  # the messages
    for attr in ("wait", "stopped_epoch", "best", "best_epoch"):
        assert getattr(ours[3], attr) == getattr(theirs[3], attr), attr


def test_documented_example_stops_after_patience_plus_one_epochs():
    # Keras's docstring: loss never improves, patience=3 -> 4 epochs run.
    epochs, *_ = _drive(callbacks.EarlyStopping(monitor="loss", patience=3), [1.0] * 10,
                        monitor="loss")
    assert epochs == 4


def test_restore_best_weights_restores_the_state_dict_of_the_best_epoch():
    values = [0.9, 0.5, 0.7, 0.8, 0.6]
    epochs, state, out, cb = _drive(
        callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1), values
    )
    assert epochs == 4 and cb.best_epoch == 1
    assert all(torch.all(v == 1.0) for v in state.values())  # buffers included
    assert out == (
        "Epoch 4: early stopping\n"
        "Restoring model weights from the end of the best epoch: 2.\n"
    )


def test_best_weights_are_clones_that_later_training_does_not_touch():
    model = FakeModel()
    cb = callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    with torch.no_grad():
        model.dense.weight.add_(5.0)
    saved = cb.best_weights["dense.weight"]
    assert not torch.equal(saved, model.dense.weight)
    assert saved.device == model.dense.weight.device


def test_missing_monitor_warns_and_does_nothing():
    model = FakeModel()
    cb = callbacks.EarlyStopping(monitor="val_loss")
    cb.set_model(model)
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert not model.stop_training


class _Named:
    def __init__(self, name):
        self.name = name


class Accuracy(_Named):
    pass


class MeanSquaredError(_Named):
    pass


class _Container:
    def __init__(self, metrics):
        self.metrics = metrics
        self.name = "compile_metrics"


def test_auto_mode_reads_the_metric_direction():
    model = FakeModel()
    model.metrics = [_Named("loss"), _Container([Accuracy("acc"), MeanSquaredError("mse")])]
    up = callbacks.EarlyStopping(monitor="val_acc", patience=0)
    up.set_model(model)
    up.on_train_begin()
    for epoch, value in enumerate([0.5, 0.6, 0.7]):
        up.on_epoch_end(epoch, {"val_acc": value})
    assert not model.stop_training and up.best == 0.7
    down = callbacks.EarlyStopping(monitor="val_mse")
    down.set_model(model)
    down.on_train_begin()
    down.on_epoch_end(0, {"val_mse": 0.5})
    down.on_epoch_end(1, {"val_mse": 0.6})
    assert model.stop_training


def test_auto_mode_unknown_direction_is_an_error():
    cb = callbacks.EarlyStopping(monitor="val_custom")
    cb.set_model(FakeModel())
    cb.on_train_begin()
    with pytest.raises(ValueError, match="Pass `mode='max'`"):
        cb.on_epoch_end(0, {"val_custom": 1.0})


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="mode 'up' is unknown, fallback to auto mode"):
        cb = callbacks.EarlyStopping(mode="up")
    assert cb.mode == "auto"


def test_restore_best_weights_on_a_keraslike_model():
    import keraslike as keras

    inputs = keras.Input(shape=(3,))
    x = keras.layers.BatchNormalization()(keras.layers.Dense(4)(inputs))
    model = keras.Model(inputs, x)
    model.stop_training = False
    cb = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    cb.set_model(model)
    cb.on_train_begin()
    snapshots = []
    for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.8]):
        with torch.no_grad():
            for t in model.state_dict().values():
                if t.is_floating_point():
                    t.add_(1.0)
        snapshots.append(model.get_weights())
        cb.on_epoch_end(epoch, {"loss": loss})
        if model.stop_training:
            break
    cb.on_train_end()
    assert epoch == 2 and cb.best_epoch == 1
    for restored, best in zip(model.get_weights(), snapshots[1]):
        assert (restored == best).all()
