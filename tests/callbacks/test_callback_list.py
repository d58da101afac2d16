"""CallbackList: order, dispatch, logs (sorted, batch tensors untouched), History; and a whole
simulated `fit` compared with Keras's CallbackList."""

import numpy as np
import pytest
import torch

from keraslike import callbacks
from tests.callbacks.helpers import FakeModel, run_captured

HOOKS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
    "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
    "on_predict_batch_end", "on_batch_begin", "on_batch_end",
]


class Recorder(callbacks.Callback):
    def __init__(self, name, journal):
        super().__init__()
        self.name, self.journal = name, journal

    def __getattribute__(self, attr):
        if attr in HOOKS:
            journal, name = object.__getattribute__(self, "journal"), object.__getattribute__(
                self, "name")
            return lambda *args, **kwargs: journal.append((name, attr, args, kwargs))
        return object.__getattribute__(self, attr)


def test_default_callbacks_are_appended_in_keras_order(keras_callbacks):
    user = callbacks.EarlyStopping()
    ours = callbacks.CallbackList([user], add_history=True, add_progbar=True)
    theirs = keras_callbacks.CallbackList([keras_callbacks.EarlyStopping()], add_history=True,
                                          add_progbar=True)
    names = lambda cbs: [type(cb).__name__ for cb in cbs.callbacks]  # noqa: E731
    assert names(ours) == names(theirs) == ["EarlyStopping", "History", "ProgbarLogger"]
    history = callbacks.History()
    kept = callbacks.CallbackList([history, user], add_history=True, add_progbar=False)
    assert kept.callbacks == [history, user]


def test_set_model_and_params_reach_every_callback():
    model = FakeModel()
    journal = []
    user = Recorder("a", journal)
    cbs = callbacks.CallbackList([user], add_history=True, add_progbar=True, model=model,
                                 verbose=2, epochs=3, steps=7)
    assert model.history is cbs.callbacks[1]
    for cb in cbs.callbacks:
        assert cb.model is model
        assert cb.params == {"verbose": 2, "epochs": 3, "steps": 7}
    assert cbs.callbacks[2].target == 7 and cbs.callbacks[2].verbose == 2


def test_nested_lists_are_flattened():
    a, b, c = callbacks.History(), callbacks.TerminateOnNaN(), callbacks.LambdaCallback()
    assert callbacks.CallbackList([a, [b, (c,)]]).callbacks == [a, b, c]
    assert callbacks.CallbackList(a).callbacks == [a]


def test_every_hook_reaches_every_callback_in_order():
    journal = []
    cbs = callbacks.CallbackList([Recorder("a", journal), Recorder("b", journal)])
    for hook in HOOKS:
        method = getattr(cbs, hook)
        if "batch" in hook or "epoch" in hook:
            method(3, {"x": 1.0})
        elif hook.endswith("_end"):
            getattr(cbs, hook.replace("_end", "_begin"))()
            journal.clear()
            method({"x": 1.0})
        else:
            method({"x": 1.0})
        assert [(n, h) for n, h, *_ in journal] == [("a", hook), ("b", hook)]
        journal.clear()


def test_default_train_batch_hooks_call_the_aliases():
    seen = []
    cb = callbacks.LambdaCallback(on_batch_begin=lambda b, logs: seen.append(("begin", b)),
                                  on_batch_end=lambda b, logs: seen.append(("end", b)))
    cbs = callbacks.CallbackList([cb])
    cbs.on_train_batch_begin(0)
    cbs.on_train_batch_end(0, {"loss": torch.tensor(1.0)})
    assert seen == [("begin", 0), ("end", 0)]


def test_batch_logs_are_sorted_flattened_and_left_as_tensors():
    got = []
    cbs = callbacks.CallbackList([callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: got.append(logs),
        on_epoch_end=lambda e, logs: got.append(logs))])
    loss, acc, mae = torch.tensor(0.5), torch.tensor(0.25), torch.tensor(2.0)
    cbs.on_train_batch_end(0, {"loss": loss, "out": {"mae": mae}, "acc": acc})
    assert list(got[0]) == ["acc", "loss", "mae"]
    assert got[0]["loss"] is loss and got[0]["mae"] is mae
    cbs.on_epoch_end(0, {"loss": loss, "val_loss": np.float32(0.75), "acc": 0.25})
    assert got[1] == {"acc": 0.25, "loss": 0.5, "val_loss": 0.75}
    assert all(type(v) is float for v in got[1].values())


def test_one_logs_dict_is_shared_by_the_callbacks_of_a_call():
    # ReduceLROnPlateau adds `learning_rate`; History, after it, records it (as in Keras).
    model = FakeModel(learning_rate=0.5)
    cbs = callbacks.CallbackList([callbacks.ReduceLROnPlateau(monitor="loss")],
                                 add_history=True, model=model, verbose=0, epochs=2, steps=1)
    logs = {"loss": 1.0}
    cbs.on_train_begin()
    cbs.on_epoch_end(0, logs)
    assert model.history.history == {"loss": [1.0], "learning_rate": [0.5]}
    assert logs == {"loss": 1.0}  # the caller's dict is not modified


def test_end_without_begin_is_an_error():
    with pytest.raises(ValueError, match="without corresponding `on_xxx_begin`"):
        callbacks.CallbackList([]).on_test_end()


def test_needs_batch_logs():
    quiet = callbacks.CallbackList([callbacks.EarlyStopping()], add_history=True,
                                   add_progbar=True, verbose=2, epochs=1, steps=None)
    assert not quiet.needs_batch_logs("train") and not quiet.needs_batch_logs("test")
    loud = callbacks.CallbackList([], add_progbar=True, verbose=1, epochs=1, steps=None)
    assert loud.needs_batch_logs("train")
    custom = callbacks.CallbackList([callbacks.LambdaCallback(on_batch_end=lambda b, l: None)])
    assert custom.needs_batch_logs("train") and not custom.needs_batch_logs("predict")
    nan = callbacks.CallbackList([callbacks.TerminateOnNaN()])
    assert nan.needs_batch_logs("train")


def test_history_records_epochs_and_sets_model_history():
    model = FakeModel()
    history = callbacks.History()
    history.set_model(model)
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.5})
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert model.history is history


def _simulate_fit(cbs_module, model, tensors, epochs=6, steps=4):
    """A fit loop over a CallbackList with ReduceLROnPlateau, EarlyStopping, History and the
    progress bar; batch logs as tensors (ours) or floats (Keras's)."""
    rng = np.random.default_rng(0)
    cbs = cbs_module.CallbackList(
        [cbs_module.ReduceLROnPlateau(monitor="loss", patience=1, verbose=1),
         cbs_module.EarlyStopping(monitor="val_loss", patience=2, verbose=1),
         cbs_module.History(), cbs_module.ProgbarLogger()],
        model=model, verbose=1, epochs=epochs, steps=steps,
    )
    wrap = (lambda v: torch.tensor(v, dtype=torch.float32)) if tensors else (lambda v: v)

    def run(clock):
        cbs.on_train_begin()
        epoch_logs = {}
        for epoch in range(epochs):
            cbs.on_epoch_begin(epoch)
            for batch in range(steps):
                cbs.on_train_batch_begin(batch)
                clock.now += 0.021
                logs = {"loss": float(np.float32(1.0 + rng.uniform(0, 0.1))),
                        "accuracy": float(np.float32(rng.uniform(0, 1)))}
                cbs.on_train_batch_end(batch, {k: wrap(v) for k, v in logs.items()})
            cbs.on_test_begin()
            cbs.on_test_batch_begin(0)
            val = {"loss": float(np.float32(0.5 + epoch % 3 * 0.1)), "accuracy": 0.5}
            cbs.on_test_batch_end(0, {k: wrap(v) for k, v in val.items()})
            cbs.on_test_end(val)
            epoch_logs = dict(logs, **{f"val_{k}": v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        cbs.on_train_end(epoch_logs)

    return run_captured(run), model.history.history


def test_simulated_fit_matches_keras(keras_callbacks):
    ours = _simulate_fit(callbacks, FakeModel(), tensors=True)
    theirs = _simulate_fit(keras_callbacks, FakeModel(), tensors=False)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert "learning_rate" in ours[1] and len(ours[1]["loss"]) == 3  # stopped early
