"""BackupAndRestore: one safetensors file per backup; an interrupted run resumed from it ends
exactly where an uninterrupted run ends."""

import json
import os

import pytest
import torch
from safetensors import safe_open

from keraslike import callbacks
from keraslike.optimizers import SGD, Adam


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: torch's thread pool only adds contention (and seconds on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Net(torch.nn.Module):
    """A small real module with the attributes `fit` gives a model."""

    def __init__(self, optimizer):
        super().__init__()
        torch.manual_seed(0)
        self.dense = torch.nn.Linear(4, 3)
        self.norm = torch.nn.BatchNorm1d(3)
        self.out = torch.nn.Linear(3, 1)
        self.optimizer = optimizer
        self.stop_training = False

    def forward(self, x):
        return self.out(self.norm(self.dense(x)))

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]


class Interrupt(callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("Interrupting!")


def _data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(5, 8, 4, generator=g), torch.randn(5, 8, 1, generator=g)


def fit(model, epochs, cbs):
    """A minimal trainer loop following the trainer's contract with the callbacks."""
    x, y = _data()
    cbs = callbacks.CallbackList(cbs, add_history=True, model=model, verbose=0, epochs=epochs,
                                 steps=len(x))
    model._initial_epoch = 0
    model.train()
    cbs.on_train_begin()
    logs = {}
    for epoch in range(model._initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        for step in range(len(x)):
            cbs.on_train_batch_begin(step)
            loss = torch.nn.functional.mse_loss(model(x[step]), y[step])
            loss.backward()
            model.optimizer.step()
            model.optimizer.zero_grad()
            cbs.on_train_batch_end(step, {"loss": loss.detach()})
        logs = {"loss": float(loss.detach())}
        cbs.on_epoch_end(epoch, logs)
    cbs.on_train_end(logs)
    return model.history


def _new_model(optimizer_class=Adam):
    model = Net(optimizer_class(learning_rate=0.01))
    model.optimizer.build(model.trainable_weights)
    return model


@pytest.mark.parametrize("optimizer_class", [Adam, lambda learning_rate: SGD(learning_rate,
                                                                              momentum=0.9)])
def test_interrupted_run_resumes_to_the_same_state(tmp_path, optimizer_class):
    reference = _new_model(optimizer_class)
    fit(reference, 6, [])

    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    model = _new_model(optimizer_class)
    with pytest.raises(RuntimeError, match="Interrupting!"):
        fit(model, 6, [backup, Interrupt(4)])
    assert os.listdir(tmp_path / "backup") == ["latest.safetensors"]

    resumed = _new_model(optimizer_class)  # a fresh process: new model, new optimizer
    history = fit(resumed, 6, [backup])
    assert history.epoch == [4, 5] and resumed._initial_epoch == 4
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, rtol=0, atol=0)
    for key, value in reference.optimizer.get_slot_state().items():
        torch.testing.assert_close(resumed.optimizer.get_slot_state()[key], value, rtol=0, atol=0)
    assert not os.path.exists(tmp_path / "backup")  # deleted after the successful run


def test_backup_file_layout(tmp_path):
    model = _new_model()
    backup = callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    fit(model, 2, [backup])
    path = tmp_path / "latest.safetensors"
    assert sorted(os.listdir(tmp_path)) == ["latest.safetensors"]  # no temp file left
    with safe_open(str(path), framework="pt") as f:
        metadata, keys = f.metadata(), set(f.keys())
    assert metadata["epoch"] == "1"
    assert metadata["step"] == "0"  # an epoch-end backup: the next epoch starts at step 0
    assert {f"model.{k}" for k in model.state_dict()} | {
        f"optimizer.{k}" for k in model.optimizer.get_slot_state()} | {
        f"rng.{k}" for k in ("torch", "numpy.key", "numpy.rest", "python.key", "python.rest")
    } == keys - {"rng.keras_seed"}  # present once a random op used the global SeedGenerator
    assert "optimizer.iteration" in keys and "model.norm.running_mean" in keys
    with open(path, "rb") as f:
        header = f.read(int.from_bytes(f.read(8), "little"))
    json.loads(header)  # a plain safetensors header: no pickle anywhere


def test_restore_builds_an_unbuilt_optimizer(tmp_path):
    model = _new_model()
    fit(model, 2, [callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    fresh = Net(Adam(learning_rate=0.5))
    assert not fresh.optimizer.built
    cb = callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    cb.set_model(fresh)
    cb.on_train_begin()
    assert fresh.optimizer.built and fresh._initial_epoch == 2
    assert float(fresh.optimizer.learning_rate) == pytest.approx(0.01)
    assert int(fresh.optimizer.iterations) == 10
    torch.testing.assert_close(fresh.dense.weight, model.dense.weight)


def test_no_backup_leaves_the_initial_epoch_alone(tmp_path):
    model = _new_model()
    model._initial_epoch = 0
    cb = callbacks.BackupAndRestore(tmp_path / "none")
    cb.set_model(model)
    cb.on_train_begin()
    assert model._initial_epoch == 0


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    model = _new_model()
    backup = callbacks.BackupAndRestore(tmp_path, double_checkpoint=True, delete_checkpoint=False)
    fit(model, 3, [backup])
    assert sorted(os.listdir(tmp_path)) == ["latest.safetensors", "latest.safetensors.bkp"]
    with open(tmp_path / "latest.safetensors", "wb") as f:
        f.write(b"\x00corrupted")
    fresh = _new_model()
    cb = callbacks.BackupAndRestore(tmp_path, double_checkpoint=True)
    cb.set_model(fresh)
    cb.on_train_begin()
    assert fresh._initial_epoch == 2  # the previous backup: written after epoch index 1
    cb.on_train_end()
    assert not os.path.exists(tmp_path)


def test_batch_level_backups(tmp_path):
    model = _new_model()
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=3, delete_checkpoint=False)
    saves = []
    real_save = backup._save_model
    backup._save_model = lambda step: saves.append((backup._current_epoch, backup._last_batch_seen)) \
        or real_save(step)
    fit(model, 2, [backup])
    # 5 batches per epoch: every 3 batches across epochs (Keras's counting)
    assert saves == [(0, 2), (1, 0), (1, 3)]
    with safe_open(str(tmp_path / "latest.safetensors"), framework="pt") as f:
        assert f.metadata()["epoch"] == "0" and f.metadata()["batch"] == "3"
        assert f.metadata()["step"] == "4"  # resumes epoch 1 at its step 4


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        callbacks.BackupAndRestore("/tmp/x", save_freq="batch")


def test_round_trip_with_a_keraslike_model(tmp_path):
    import keraslike as keras

    def make():
        keras.backend.clear_session()
        torch.manual_seed(0)
        inputs = keras.Input(shape=(4,))
        x = keras.layers.Dense(8, activation="relu")(inputs)
        x = keras.layers.BatchNormalization()(x)
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
        model.optimizer = Adam(learning_rate=0.01)
        return model

    model = make()
    model.train()
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    for _ in range(3):
        torch.nn.functional.mse_loss(model(x), y).backward()
        model.optimizer.apply([p.grad for p in model.trainable_weights], model.trainable_weights)
        model.zero_grad()
    backup = callbacks.BackupAndRestore(tmp_path)
    backup.set_model(model)
    backup.on_epoch_end(0, {"loss": 1.0})

    restored = make()
    assert not restored.optimizer.built
    backup.set_model(restored)
    backup.on_train_begin()
    assert restored._initial_epoch == 1
    for key, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key
    for key, value in model.optimizer.get_slot_state().items():
        assert torch.equal(restored.optimizer.get_slot_state()[key], value), key


@pytest.mark.cuda
def test_cuda_model_backs_up_and_restores(tmp_path):
    model = Net(Adam(learning_rate=0.01)).cuda()
    model.optimizer.build(model.trainable_weights)
    x = torch.randn(8, 4, device="cuda")
    torch.nn.functional.mse_loss(model(x), torch.zeros(8, 1, device="cuda")).backward()
    model.optimizer.step()
    backup = callbacks.BackupAndRestore(tmp_path)
    backup.set_model(model)
    backup.on_epoch_end(0, {"loss": 1.0})
    restored = Net(Adam(learning_rate=0.5)).cuda()
    backup.set_model(restored)
    backup.on_train_begin()
    for key, value in model.state_dict().items():
        assert restored.state_dict()[key].device == value.device
        assert torch.equal(restored.state_dict()[key], value), key
    for key, value in model.optimizer.get_slot_state().items():
        assert torch.equal(restored.optimizer.get_slot_state()[key], value), key
