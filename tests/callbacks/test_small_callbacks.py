"""TerminateOnNaN, LambdaCallback, TensorBoard, SwapEMAWeights and the Callback base."""

import importlib.util

import pytest
import torch

from keraslike import callbacks
from keraslike.callbacks import tensorboard as tensorboard_module
from tests.callbacks.helpers import FakeModel, run_captured


# ----------------------------------------------------------------- Callback base

def test_base_callback_hooks_do_nothing_and_keep_model_and_params():
    cb = callbacks.Callback()
    model = FakeModel()
    cb.set_model(model)
    cb.set_params({"verbose": 1, "epochs": 2, "steps": None})
    assert cb.model is model and cb.params["epochs"] == 2
    for name in dir(cb):
        if name.startswith("on_"):
            args = (0, {}) if ("batch" in name or "epoch" in name) else ({},)
            assert getattr(cb, name)(*args) is None


# ----------------------------------------------------------------- TerminateOnNaN

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_terminate_on_nan_stops_training(bad):
    model = FakeModel()
    cbs = callbacks.CallbackList([callbacks.TerminateOnNaN()], model=model)
    cbs.on_train_batch_end(0, {"loss": torch.tensor(1.0)})
    assert not model.stop_training
    out = run_captured(lambda clock: cbs.on_train_batch_end(1, {"loss": torch.tensor(bad)}))
    assert model.stop_training
    assert out == "Batch 1: Invalid loss, terminating training\n"


def test_terminate_on_nan_matches_keras_message(keras_callbacks):
    outs = []
    for module, loss in ((callbacks, torch.tensor(float("nan"))), (keras_callbacks, float("nan"))):
        cb = module.TerminateOnNaN()
        cb.set_model(FakeModel())
        outs.append(run_captured(lambda clock: cb.on_train_batch_end(3, {"loss": loss})))
    assert outs[0] == outs[1]


def test_terminate_on_nan_raise_error():
    cb = callbacks.TerminateOnNaN(raise_error=True)
    cb.set_model(FakeModel())
    with pytest.raises(RuntimeError, match="encountered at batch 2. Loss value: nan"):
        cb.on_train_batch_end(2, {"loss": torch.tensor(float("nan"))})


def test_terminate_on_nan_without_loss_does_nothing():
    model = FakeModel()
    cb = callbacks.TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"accuracy": torch.tensor(float("nan"))})
    cb.on_train_batch_end(0, None)
    assert not model.stop_training


# ----------------------------------------------------------------- LambdaCallback

def test_lambda_callback_calls_the_functions():
    seen = []
    cb = callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: seen.append(("epoch_end", epoch, logs["loss"])),
        on_train_begin=lambda logs: seen.append("train_begin"),
        on_train_end=lambda logs: seen.append("train_end"),
        on_train_batch_begin=lambda batch, logs: seen.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch_end", batch)),
        on_test_end=lambda logs: seen.append("test_end"),
    )
    cbs = callbacks.CallbackList([cb])
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_begin(0)
    cbs.on_train_batch_end(0, {"loss": torch.tensor(1.0)})
    cbs.on_test_begin()
    cbs.on_test_end({"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 0.5})
    cbs.on_train_end({"loss": 0.5})
    assert seen == ["train_begin", ("epoch_begin", 0), ("batch_begin", 0), ("batch_end", 0),
                    "test_end", ("epoch_end", 0, 0.5), "train_end"]


# ----------------------------------------------------------------- TensorBoard

def test_tensorboard_without_the_package_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(ImportError, match="pip install tensorboard"):
        callbacks.TensorBoard(log_dir="logs")


class FakeWriter:
    instances = []

    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.histograms, self.closed = log_dir, [], [], False
        FakeWriter.instances.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, float(value), int(step)))

    def add_histogram(self, tag, values, step):
        self.histograms.append((tag, tuple(values.shape), step))

    def flush(self):
        pass

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tensorboard(monkeypatch):
    FakeWriter.instances = []
    monkeypatch.setattr(tensorboard_module, "_require_tensorboard", lambda: None)
    monkeypatch.setattr(tensorboard_module, "_summary_writer_class", lambda: FakeWriter)
    return FakeWriter


def test_tensorboard_writes_epoch_batch_and_evaluation_scalars(fake_tensorboard, tmp_path):
    model = FakeModel(learning_rate=0.5)
    cb = callbacks.TensorBoard(log_dir=tmp_path, update_freq=2, histogram_freq=1)
    cbs = callbacks.CallbackList([cb], model=model, verbose=0, epochs=1, steps=3)
    assert cbs.needs_batch_logs("train")
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for batch in range(3):
        cbs.on_train_batch_begin(batch)
        cbs.on_train_batch_end(batch, {"loss": torch.tensor(1.0 + batch)})
    cbs.on_test_begin()
    model.optimizer.iterations = torch.tensor(3)
    cbs.on_test_end({"loss": 0.25})
    cbs.on_epoch_end(0, {"loss": 2.0, "val_loss": 0.25})
    cbs.on_train_end({"loss": 2.0, "val_loss": 0.25})
    writers = {w.log_dir: w for w in fake_tensorboard.instances}
    train, val = writers[str(tmp_path / "train")], writers[str(tmp_path / "validation")]
    assert train.scalars == [("batch_loss", 2.0, 2), ("epoch_loss", 2.0, 0),
                             ("epoch_learning_rate", 0.5, 0)]
    assert val.scalars == [("evaluation_loss_vs_iterations", 0.25, 3), ("epoch_loss", 0.25, 0)]
    # A module without Keras layers: histograms are named after its state_dict.
    assert train.histograms == [("moving/histogram", (2,), 0),
                                ("dense.weight/histogram", (2, 3), 0),
                                ("dense.bias/histogram", (2,), 0)]
    assert train.closed and val.closed


def test_tensorboard_histograms_use_keras_weight_paths(fake_tensorboard, tmp_path):
    import keraslike as keras

    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    cb = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    (train,) = fake_tensorboard.instances
    assert [tag for tag, *_ in train.histograms] == ["dense/kernel/histogram",
                                                     "dense/bias/histogram"]


def test_tensorboard_argument_errors(fake_tensorboard):
    with pytest.raises(ValueError, match="Profiling is not yet available with the torch backend"):
        callbacks.TensorBoard(profile_batch=2)
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq="step")
    assert not callbacks.TensorBoard()._needs_batch_logs("train")


# ----------------------------------------------------------------- SwapEMAWeights

def test_swap_ema_weights_during_evaluation():
    from keraslike.optimizers import SGD

    model = FakeModel()
    model.optimizer = SGD(learning_rate=0.1, use_ema=True)
    params = list(model.parameters())
    model.optimizer.build(params)
    with torch.no_grad():
        for average in model.optimizer._model_variables_moving_average:
            average.fill_(7.0)
    before = [p.detach().clone() for p in params]
    cb = callbacks.SwapEMAWeights()
    cb.set_model(model)
    cb.on_test_begin()
    assert all(torch.all(p == 7.0) for p in params)
    cb.on_test_end()
    assert all(torch.equal(p, b) for p, b in zip(params, before))
    cb.on_predict_begin()
    cb.on_predict_end()
    assert all(torch.equal(p, b) for p, b in zip(params, before))


def test_swap_ema_weights_requires_ema():
    from keraslike.optimizers import SGD

    model = FakeModel()
    model.optimizer = SGD()
    model.optimizer.build(list(model.parameters()))
    cb = callbacks.SwapEMAWeights()
    cb.set_model(model)
    with pytest.raises(ValueError, match="`use_ema=True` is set on the optimizer"):
        cb.on_test_begin()
