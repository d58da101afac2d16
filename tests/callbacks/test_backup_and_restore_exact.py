"""BackupAndRestore resumes bit for bit: shuffled data order, dropout masks, `keras.random` seeds,
the epoch and the step inside it are restored, so an interrupted and resumed run ends with the
weights (and history) of an uninterrupted one, on the CPU, with `shuffle=True` (the default)."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike.random import rng_state


class Noise(keras.layers.Layer):
    """Draws from the global SeedGenerator (`seed=None`) while training."""

    def call(self, x, training=None):
        if training:
            return x + 0.01 * keras.random.normal(tuple(x.shape))
        return x


def _model():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)  # what a fresh process running the same script does
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    x = keras.layers.Dropout(0.3)(x)
    x = Noise()(x)
    x = keras.layers.GaussianNoise(0.05)(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(3)
    return rng.standard_normal((36, 4)).astype("float32"), rng.standard_normal((36, 1)).astype("float32")


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch
        self.current = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise RuntimeError("Interrupting!")

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("Interrupting!")


def _fit(model, callbacks=(), **kwargs):
    x, y = _data()
    kwargs = {"epochs": 4, "batch_size": 8, "verbose": 0, **kwargs}
    return model.fit(x, y, callbacks=list(callbacks), **kwargs)


def _assert_same_weights(a, b):
    for key, value in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[key], value, rtol=0, atol=0, msg=key)
    for key, value in a.optimizer.get_slot_state().items():
        torch.testing.assert_close(b.optimizer.get_slot_state()[key], value, rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("interrupt, save_freq", [
    (dict(epoch=2), "epoch"),            # killed between epochs
    (dict(epoch=2, batch=2), 3),         # killed inside an epoch, backup at its batch 2
    (dict(epoch=1, batch=4), 1),         # backup at an epoch's last batch, killed before its end
])
def test_interrupted_shuffled_run_with_dropout_resumes_bitwise(tmp_path, interrupt, save_freq):
    reference = _model()
    expected = _fit(reference).history

    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=save_freq)
    with pytest.raises(RuntimeError, match="Interrupting!"):
        _fit(_model(), [backup, Interrupt(**interrupt)])

    resumed = _model()
    history = _fit(resumed, [backup])
    _assert_same_weights(reference, resumed)
    first = history.epoch[0]
    assert first == (interrupt["epoch"] if save_freq != 1 else interrupt["epoch"] + 1)
    assert history.history["loss"] == expected["loss"][first:]
    assert history.history["mae"] == expected["mae"][first:]
    assert not (tmp_path / "backup").exists()


@pytest.mark.slow  # three short fits: ~2.5 s on a busy 2-core machine
def test_resume_continues_a_pass_that_spans_epochs(tmp_path):
    # steps_per_epoch=3 of 5 batches: epoch 1 continues the pass (and order) epoch 0 began.
    reference = _model()
    _fit(reference, steps_per_epoch=3)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError):
        _fit(_model(), [backup, Interrupt(epoch=1)], steps_per_epoch=3)
    resumed = _model()
    _fit(resumed, [backup], steps_per_epoch=3)
    _assert_same_weights(reference, resumed)


@pytest.mark.slow  # three short fits: ~2.5 s on a busy 2-core machine
def test_resume_from_a_generator_skips_what_was_consumed(tmp_path):
    def batches():
        rng = np.random.default_rng(5)
        while True:
            yield rng.standard_normal((6, 4)).astype("float32"), rng.standard_normal((6, 1)).astype("float32")

    def fit(model, callbacks=()):
        return model.fit(batches(), epochs=3, steps_per_epoch=4, verbose=0, callbacks=list(callbacks))

    reference = _model()
    fit(reference)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=3)
    with pytest.raises(RuntimeError):
        fit(_model(), [backup, Interrupt(epoch=1, batch=3)])
    resumed = _model()
    fit(resumed, [backup])
    _assert_same_weights(reference, resumed)


@pytest.mark.slow  # three short fits: ~2.5 s on a busy 2-core machine
def test_without_the_random_state_the_resumed_run_differs(tmp_path, monkeypatch):
    """The test above can fail: skipping the random state's restore changes the result."""
    reference = _model()
    _fit(reference)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError):
        _fit(_model(), [backup, Interrupt(epoch=2)])
    monkeypatch.setattr(rng_state, "set_state", lambda state: None)
    resumed = _model()
    _fit(resumed, [backup])
    different = [k for k, v in reference.state_dict().items() if not torch.equal(v, resumed.state_dict()[k])]
    assert different


def test_corrupt_backup_names_its_path(tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "latest.safetensors").write_bytes(b"not a safetensors file at all")
    backup = keras.callbacks.BackupAndRestore(folder)
    with pytest.raises(ValueError, match=r"Cannot restore from the backup '.*latest\.safetensors'"):
        _fit(_model(), [backup])


def test_stale_temp_files_of_a_killed_backup_are_removed(tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    stale = folder / ".latest.safetensors.tmp-999999999-abc"  # a pid that does not exist
    stale.write_bytes(b"half a backup")
    _fit(_model(), [keras.callbacks.BackupAndRestore(folder)], epochs=1)
    assert not folder.exists()  # the stale file went, then the emptied folder


@pytest.mark.slow  # three short fits: ~2.5 s on a busy 2-core machine
def test_resume_inside_an_epoch_of_a_shuffling_dataloader(tmp_path):
    x, y = _data()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))

    def fit(model, callbacks=()):
        loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True)
        return model.fit(loader, epochs=3, verbose=0, callbacks=list(callbacks))

    reference = _model()
    fit(reference)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=2)
    with pytest.raises(RuntimeError):
        fit(_model(), [backup, Interrupt(epoch=1, batch=2)])
    resumed = _model()
    history = fit(resumed, [backup])
    assert history.epoch == [1, 2]
    _assert_same_weights(reference, resumed)
