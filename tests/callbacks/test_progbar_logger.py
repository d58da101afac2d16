"""ProgbarLogger's output compared byte for byte with Keras's, for the same hooks and clock.

Our callbacks get batch logs as 0-d float32 tensors (what the trainer passes); Keras's get
the same values as Python floats (what its CallbackList passes)."""

import numpy as np
import pytest
import torch

from keraslike import callbacks
from tests.callbacks.helpers import run_captured


def _batch_logs(rng, names):
    return {name: float(np.float32(rng.uniform(0.0, 2.0))) for name in names}


def _fit_events(epochs, steps, dt, names=("accuracy", "loss"), validation=True, seed=0,
                declared_steps="same"):
    """Events of `fit`: (seconds, hook, args). Batch logs are running values; epoch logs add
    `val_*` results."""
    rng = np.random.default_rng(seed)
    t, events = 0.0, [(0.0, "on_train_begin", ())]
    for epoch in range(epochs):
        events.append((t, "on_epoch_begin", (epoch,)))
        logs = {}
        for batch in range(steps):
            events.append((t, "on_train_batch_begin", (batch,)))
            t += dt
            logs = _batch_logs(rng, names)
            events.append((t, "on_train_batch_end", (batch, logs)))
        epoch_logs = dict(logs)
        if validation:
            events.append((t, "on_test_begin", ()))
            for batch in range(2):
                t += dt / 3
                events.append((t, "on_test_batch_end", (batch, _batch_logs(rng, names))))
            val = _batch_logs(rng, names)
            events.append((t, "on_test_end", (val,)))
            epoch_logs.update({f"val_{k}": v for k, v in val.items()})
        events.append((t, "on_epoch_end", (epoch, dict(sorted(epoch_logs.items())))))
    events.append((t, "on_train_end", (epoch_logs,)))
    return events


def _evaluate_events(steps, dt, seed=0):
    rng = np.random.default_rng(seed)
    t, events = 0.0, [(0.0, "on_test_begin", ())]
    logs = {}
    for batch in range(steps):
        t += dt
        logs = _batch_logs(rng, ("loss", "mae"))
        events.append((t, "on_test_batch_end", (batch, logs)))
    events.append((t, "on_test_end", (logs,)))
    return events


def _predict_events(steps, dt):
    t, events = 0.0, [(0.0, "on_predict_begin", ())]
    for batch in range(steps):
        t += dt
        events.append((t, "on_predict_batch_end", (batch, {"outputs": np.zeros((2, 1))})))
    events.append((t, "on_predict_end", ()))
    return events


def _to_tensors(args):
    """Batch logs as the trainer passes them: 0-d float32 tensors."""
    out = []
    for a in args:
        if isinstance(a, dict):
            a = {k: torch.tensor(v, dtype=torch.float32) if isinstance(v, float) else v
                 for k, v in a.items()}
        out.append(a)
    return tuple(out)


def _replay(callback, events, params, tensors):
    def run(clock):
        callback.set_model(object())
        callback.set_params(params)
        for t, hook, args in events:
            clock.now = 1000.0 + t
            if tensors and hook.endswith("batch_end"):
                args = _to_tensors(args)
            getattr(callback, hook)(*args)

    return run_captured(run)


SCENARIOS = {
    "fit_3_epochs": (_fit_events(3, 5, 0.013), dict(epochs=3, steps=5)),
    "fit_1_epoch_no_header": (_fit_events(1, 4, 0.2), dict(epochs=1, steps=4)),
    "fit_slow_steps": (_fit_events(2, 3, 2.5, seed=1), dict(epochs=2, steps=3)),
    "fit_no_validation": (_fit_events(2, 12, 0.004, validation=False), dict(epochs=2, steps=12)),
    "fit_unknown_steps": (_fit_events(2, 6, 0.07, seed=2), dict(epochs=2, steps=None)),
    "fit_many_steps_skipped_redraws": (_fit_events(2, 60, 0.01, seed=4), dict(epochs=2, steps=60)),
    "evaluate": (_evaluate_events(7, 0.03), dict(epochs=1, steps=7)),
    "evaluate_unknown_steps": (_evaluate_events(5, 0.03), dict(epochs=1, steps=None)),
    "predict": (_predict_events(4, 0.1), dict(epochs=1, steps=4)),
}


@pytest.mark.parametrize("verbose", [0, 1, 2])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_progbar_logger_output_matches_keras(keras_callbacks, scenario, verbose):
    events, params = SCENARIOS[scenario]
    params = dict(params, verbose=verbose)
    ours = _replay(callbacks.ProgbarLogger(), events, params, tensors=True)
    theirs = _replay(keras_callbacks.ProgbarLogger(), events, params, tensors=False)
    assert ours == theirs
    if verbose and scenario.startswith("fit_3"):
        assert "Epoch 1/3\n" in ours and "val_loss: " in ours


def test_verbose_2_prints_one_line_per_epoch():
    events, params = SCENARIOS["fit_3_epochs"]
    out = _replay(callbacks.ProgbarLogger(), events, dict(params, verbose=2), tensors=True)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/3"
    # 15 ms/step: the validation time counts in the epoch's line, as in Keras.
    assert lines[1].startswith("5/5 - 0s - 15ms/step - accuracy: ")
    assert " - val_accuracy: " in lines[1] and lines[1].index("loss") < lines[1].index("val_")
    assert len(lines) == 6


def test_batch_hooks_do_not_read_tensors(monkeypatch):
    """Between redraws the bar keeps tensors as they are (no `.item()`, no `float()`)."""
    reads = []
    real_item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda self: reads.append(1) or real_item(self))
    cb = callbacks.ProgbarLogger()
    cb.set_params({"verbose": 1, "epochs": 1, "steps": 100})

    def run(clock):
        cb.on_train_begin()
        cb.on_epoch_begin(0)
        clock.now += 1.0  # the first batch is drawn (the interval has passed)
        cb.on_train_batch_end(0, {"loss": torch.tensor(0.5)})
        n_first = len(reads)
        for batch in range(1, 50):  # same instant: no redraw, no read
            cb.on_train_batch_end(batch, {"loss": torch.tensor(0.5)})
        assert len(reads) == n_first

    run_captured(run)


def test_needs_batch_logs():
    cb = callbacks.ProgbarLogger()
    cb.set_params({"verbose": 2, "epochs": 1, "steps": 3})
    assert not cb._needs_batch_logs("train")
    cb.set_params({"verbose": 1, "epochs": 1, "steps": 3})
    assert cb._needs_batch_logs("train") and cb._needs_batch_logs("test")
    cb.on_train_begin()
    assert not cb._needs_batch_logs("test") and not cb._needs_batch_logs("predict")
