"""ModelCheckpoint: which epochs are saved, under which names, with which messages, compared
with Keras's ModelCheckpoint on the same logs."""

import os

import pytest
import torch

from keraslike import callbacks
from tests.callbacks.helpers import FakeModel, float32_sequence, run_captured


def _drive(callback, values, steps=3):
    model = FakeModel()

    def run(clock):
        callback.set_model(model)
        callback.set_params({"verbose": 0, "epochs": len(values), "steps": steps})
        callback.on_train_begin({})
        for epoch, value in enumerate(values):
            callback.on_epoch_begin(epoch, {})
            for batch in range(steps):
                callback.on_train_batch_begin(batch, {})
                callback.on_train_batch_end(batch, {"loss": value + batch})
            callback.on_epoch_end(epoch, {"loss": value, "val_loss": value})
        callback.on_train_end({})

    out = run_captured(run)
    return model.saved, out


SETTINGS = [
    dict(filepath="{dir}/model.keras"),
    dict(filepath="{dir}/m-{{epoch:02d}}.keras", verbose=1),
    dict(filepath="{dir}/m-{{epoch:02d}}-{{val_loss:.3f}}.keras", save_best_only=True,
         verbose=1),
    dict(filepath="{dir}/best.weights.h5", save_best_only=True, save_weights_only=True,
         verbose=1),
    dict(filepath="{dir}/m-{{epoch}}.keras", save_best_only=True, mode="max", verbose=1),
    dict(filepath="{dir}/m.keras", save_best_only=True, initial_value_threshold=0.5, verbose=1),
    dict(filepath="{dir}/sub/b{{epoch}}-{{batch}}-{{loss:.1f}}.keras", save_freq=2, verbose=1),
    dict(filepath="{dir}/b.keras", save_freq=4, save_best_only=True, monitor="loss", verbose=1),
]


@pytest.mark.parametrize("settings", range(len(SETTINGS)))
def test_model_checkpoint_matches_keras(keras_callbacks, tmp_path, settings):
    values = float32_sequence(6, seed=5)
    results = []
    for name, module in (("ours", callbacks), ("keras", keras_callbacks)):
        kwargs = dict(SETTINGS[settings])
        directory = tmp_path / name
        directory.mkdir()
        kwargs["filepath"] = kwargs["filepath"].format(dir=directory)
        saved, out = _drive(module.ModelCheckpoint(**kwargs), values)
        results.append(([(kind, os.path.relpath(p, directory)) for kind, p in saved],
                        out.replace(str(directory), "DIR")))
    assert results[0] == results[1]


def test_save_best_only_picks_the_best_epoch_and_formats_names(tmp_path):
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.safetensors")
    saved, out = _drive(callbacks.ModelCheckpoint(pattern, save_best_only=True),
                        [0.9, 0.5, 0.7, 0.4, 0.6])
    assert [os.path.basename(p) for _, p in saved] == [
        "ckpt-01-0.90.safetensors", "ckpt-02-0.50.safetensors", "ckpt-04-0.40.safetensors"]
    assert all(kind == "model" for kind, _ in saved)
    assert out == ""


def test_batch_level_saving_reads_tensor_logs(tmp_path):
    model = FakeModel()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "b{batch}-{loss:.2f}.weights.safetensors"),
                                   save_weights_only=True, save_freq=2)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    for batch in range(4):
        cb.on_train_batch_end(batch, {"loss": torch.tensor(0.25 * batch)})
    assert [os.path.basename(p) for _, p in model.saved] == [
        "b2-0.25.weights.safetensors", "b4-0.75.weights.safetensors"]
    assert cb._needs_batch_logs("train")
    assert not callbacks.ModelCheckpoint("m.keras")._needs_batch_logs("train")


@pytest.mark.parametrize("path,weights_only", [
    ("m.keras", False), ("m.safetensors", False),
    ("m.weights.h5", True), ("m.weights.safetensors", True),
])
def test_accepted_extensions(path, weights_only):
    callbacks.ModelCheckpoint(path, save_weights_only=weights_only)


def test_rejected_extensions():
    with pytest.raises(ValueError, match="must end in `.keras`"):
        callbacks.ModelCheckpoint("m.pt")
    callbacks.ModelCheckpoint("m.h5")  # the legacy HDF5 model, as Keras 3 takes it
    with pytest.raises(ValueError, match="must end in `.keras`"):
        callbacks.ModelCheckpoint("m.hdf5")  # Keras 3 refuses it too
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        callbacks.ModelCheckpoint("m.safetensors", save_weights_only=True)
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint("m.keras", save_freq="batch")


def test_unknown_placeholder_is_a_key_error(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m-{acc}.keras"))
    cb.set_model(FakeModel())
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_directory_filepath_is_an_error(tmp_path):
    (tmp_path / "d.keras").mkdir()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "d.keras"))
    cb.set_model(FakeModel())
    with pytest.raises(IOError, match="non-directory filepath"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_most_recently_modified_file_matching_pattern(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))
    names = ["batch03epoch02.keras", "batch02epoch02.keras", "batch01epoch01.keras"]
    for i, name in enumerate(names):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (1000 + i, 1000 + i))
    pattern = str(tmp_path / "batch{batch:02d}epoch{epoch:02d}.keras")
    assert cb._get_most_recently_modified_file_matching_pattern(pattern) == str(
        tmp_path / names[-1])
