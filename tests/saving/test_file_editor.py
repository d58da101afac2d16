"""`keras.saving.KerasFileEditor`: files edited here load in Keras and keraslike, and back."""

import os

import numpy as np
import pytest

import keraslike
from keraslike.saving import KerasFileEditor

h5py = pytest.importorskip("h5py")

X = np.random.default_rng(0).random((5, 4)).astype("float32")


def _stacked(lib):
    """Dense -> nested Sequential -> LSTM -> BatchNormalization (objects inside objects)."""
    inputs = lib.Input((4,))
    x = lib.layers.Dense(6, name="first")(inputs)
    x = lib.Sequential([lib.layers.Dense(4, name="inner")], name="block")(x)
    x = lib.layers.Reshape((2, 2))(x)
    x = lib.layers.LSTM(3, name="rnn")(x)
    outputs = lib.layers.BatchNormalization(name="norm")(x)
    return lib.Model(inputs, outputs)


def _mlp(lib, hidden=5, extra=False):
    inputs = lib.Input((4,))
    x = lib.layers.Dense(hidden, activation="relu", name="hidden")(inputs)
    if extra:
        x = lib.layers.Dense(hidden, name="added")(x)
    outputs = lib.layers.Dense(2, name="head")(x)
    return lib.Model(inputs, outputs)


def _randomize(model, seed=1):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(np.shape(w)).astype("float32") for w in model.get_weights()])
    return model


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def _flat(tree, path=""):
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{path}/{key}"))
        else:
            flat[f"{path}/{key}"] = value
    return flat


def test_reads_a_keras_archive_with_nested_and_recurrent_objects(tmp_path, capsys):
    keras = pytest.importorskip("keras")
    reference = _randomize(_stacked(keras))
    reference.save(tmp_path / "m.keras")
    editor = KerasFileEditor(str(tmp_path / "m.keras"))
    tree = editor.weights_dict
    assert sorted(tree["layers"]) == ["batch_normalization", "dense", "lstm", "sequential"]
    np.testing.assert_array_equal(tree["layers"]["dense"]["0"], reference.get_layer("first").kernel.numpy())
    inner = reference.get_layer("block").layers[0]
    np.testing.assert_array_equal(tree["layers"]["sequential"]["layers"]["dense"]["1"], inner.bias.numpy())
    cell = reference.get_layer("rnn").cell
    np.testing.assert_array_equal(tree["layers"]["lstm"]["cell"]["1"], cell.recurrent_kernel.numpy())
    assert editor.object_metadata["/layers/lstm/cell"]["name"] == cell.name
    assert editor.metadata["keras_version"] == keras.__version__
    assert editor.config["class_name"] == "Functional"
    editor.summary()
    out = capsys.readouterr().out
    assert "Saved with Keras 3.15.1" in out
    assert "├─ dense ('first')" in out and "0: shape=(4, 6), dtype=float32" in out


def test_resaved_keras_file_loads_with_the_same_weights_in_keras_and_keraslike(tmp_path):
    keras = pytest.importorskip("keras")
    source = _randomize(_stacked(keras))
    source.save(tmp_path / "m.keras")
    KerasFileEditor(str(tmp_path / "m.keras")).save(tmp_path / "out.weights.h5")
    for lib in (keras, keraslike):
        target = _stacked(lib)
        target.load_weights(str(tmp_path / "out.weights.h5"))
        for got, want in zip(_weights(target), _weights(source)):
            np.testing.assert_array_equal(got, want)
    source.save_weights(tmp_path / "k.weights.h5")  # Keras's weights file: the same tree
    from_weights = KerasFileEditor(str(tmp_path / "k.weights.h5")).weights_dict
    from_archive = KerasFileEditor(str(tmp_path / "m.keras")).weights_dict
    assert _flat(from_weights).keys() == _flat(from_archive).keys()
    for key, value in _flat(from_archive).items():
        np.testing.assert_array_equal(_flat(from_weights)[key], value)
    ours = keraslike.models.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(ours.predict(X, verbose=0), source.predict(X, verbose=0), atol=1e-5)


def test_adapting_a_file_to_a_new_architecture(tmp_path):
    keras = pytest.importorskip("keras")
    old = _randomize(_mlp(keraslike))
    old.save(str(tmp_path / "old.keras"))
    editor = KerasFileEditor(str(tmp_path / "old.keras"))
    # The new model has `added` (dense_1) between hidden (dense) and head (dense_2).
    editor.rename_object("layers/dense_1", "dense_2")
    added = {"0": np.eye(5, dtype="float32"), "1": np.full(5, 0.5, dtype="float32")}
    editor.add_object("layers/dense_1", added)
    editor.save(str(tmp_path / "new.weights.h5"))
    hidden_kernel, hidden_bias, head_kernel, head_bias = _weights(old)
    expected = [hidden_kernel, hidden_bias, added["0"], added["1"], head_kernel, head_bias]
    outputs = []
    for lib in (keras, keraslike):
        new = _mlp(lib, extra=True)
        new.load_weights(str(tmp_path / "new.weights.h5"))
        for got, want in zip(_weights(new), expected):
            np.testing.assert_array_equal(got, want)
        outputs.append(np.asarray(new.predict(X, verbose=0)))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
    hidden = np.maximum(X @ hidden_kernel + hidden_bias, 0)
    np.testing.assert_allclose(outputs[1], (hidden + 0.5) @ head_kernel + head_bias, rtol=1e-5, atol=1e-5)


def test_a_file_edited_by_keras_loads_here_and_ours_loads_in_keras(tmp_path):
    keras = pytest.importorskip("keras")
    model = _randomize(_mlp(keraslike))
    model.save(str(tmp_path / "m.keras"))
    theirs = keras.saving.KerasFileEditor(str(tmp_path / "m.keras"))
    ours = KerasFileEditor(str(tmp_path / "m.keras"))
    for editor in (theirs, ours):
        editor.delete_weight("layers/dense_1", "1")
        editor.add_weights("layers/dense_1", {"1": np.arange(2, dtype="float32")})
    theirs.save(str(tmp_path / "theirs.weights.h5"))
    ours.save(str(tmp_path / "ours.weights.h5"))
    expected = _weights(model)[:3] + [np.arange(2, dtype="float32")]
    for lib, name in ((keraslike, "theirs"), (keras, "ours"), (keraslike, "ours")):
        loaded = _mlp(lib)
        loaded.load_weights(str(tmp_path / f"{name}.weights.h5"))
        for got, want in zip(_weights(loaded), expected):
            np.testing.assert_array_equal(got, want)


def test_weights_h5_files_open_and_compare_with_a_model(tmp_path):
    model = _mlp(keraslike)
    model.save_weights(str(tmp_path / "m.weights.h5"))
    editor = KerasFileEditor(str(tmp_path / "m.weights.h5"))
    assert editor.config is None and editor.metadata is None
    assert editor.compare(_mlp(keraslike)) == {"status": "success", "error_count": 0, "match_count": 4}
    # hidden kernel and bias, head kernel: 3 shape mismatches (the head bias still fits).
    assert editor.compare(_mlp(keraslike, hidden=7)) == {
        "status": "error", "error_count": 3, "match_count": 1,
    }
    # one object missing from the file, one weight of the file missing from the model.
    editor.delete_object("layers/dense_1")
    editor.add_weights("dense", {"2": np.zeros(3, dtype="float32")})
    assert editor.compare(_mlp(keraslike)) == {"status": "error", "error_count": 2, "match_count": 2}


def test_compare_counts_the_optimizer_state_of_a_trained_model(tmp_path):
    keras = pytest.importorskip("keras")
    model = _stacked(keras)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.ones((5, 3)), verbose=0)
    model.save(tmp_path / "m.keras")
    ours = _stacked(keraslike)
    ours.compile(optimizer="adam", loss="mse")
    ours.fit(X, np.ones((5, 3)), verbose=0)
    editor = KerasFileEditor(str(tmp_path / "m.keras"))
    # 2 + 2 + 3 + 4 weights; the optimizer's iterations, learning rate and 2 slots for each of
    # the 9 trainable weights (BatchNormalization's moving statistics have none).
    assert editor.compare(ours) == {"status": "success", "error_count": 0, "match_count": 11 + 2 + 18}
    assert editor.compare(_stacked(keraslike))["error_count"] == 1  # no optimizer state


def test_names_are_found_once_and_ambiguous_names_refused(tmp_path):
    model = _mlp(keraslike)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.ones((5, 2)), verbose=0)
    model.save(str(tmp_path / "m.keras"))
    editor = KerasFileEditor(str(tmp_path / "m.keras"))
    editor.rename_object("dense", "hidden")  # unique, though the optimizer follows it
    assert sorted(editor.weights_dict["layers"]) == ["dense_1", "hidden"]
    assert editor.object_metadata["/layers/hidden"]["name"] == "hidden"
    with pytest.raises(ValueError, match="occurs more than once"):
        editor.delete_object("0")
    with pytest.raises(ValueError, match="does not appear in the model"):
        editor.delete_object("nothing")
    with pytest.raises(ValueError, match="leaf name"):
        editor.rename_object("hidden", "layers/x")
    with pytest.raises(ValueError, match="already exists"):
        editor.rename_object("hidden", "dense_1")
    with pytest.raises(ValueError, match="Path 'layers/missing' not found"):
        editor.add_object("layers/missing/dense", {"0": np.zeros(1)})
    with pytest.raises(ValueError, match="should be a dict"):
        editor.add_weights("hidden", [np.zeros(1)])
    with pytest.raises(ValueError, match="Weight 7 not found in object hidden"):
        editor.delete_weight("hidden", "7")
    with pytest.raises(ValueError, match="Path 'layers/nope' not found"):
        editor.delete_object("layers/nope")


def test_bad_paths_and_extensions(tmp_path):
    with pytest.raises(ValueError, match="expected a `.keras` `.weights.h5` extension"):
        KerasFileEditor(str(tmp_path / "m.h5"))
    with pytest.raises(FileNotFoundError):
        KerasFileEditor(str(tmp_path / "missing.keras"))
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a .keras archive"):
        KerasFileEditor(str(tmp_path / "junk.keras"))
    model = _mlp(keraslike)
    model.save_weights(str(tmp_path / "m.weights.h5"))
    editor = KerasFileEditor(tmp_path / "m.weights.h5")  # a pathlib.Path works too
    with pytest.raises(ValueError, match="expected a `.weights.h5` extension"):
        editor.save(str(tmp_path / "out.keras"))
    with pytest.raises(ValueError, match="takes a keraslike model"):
        editor.compare(object())


def test_a_failed_save_leaves_the_previous_file(tmp_path):
    model = _randomize(_mlp(keraslike))
    target = str(tmp_path / "m.weights.h5")
    model.save_weights(target)
    before = open(target, "rb").read()
    editor = KerasFileEditor(target)
    editor.weights_dict["layers"]["dense"]["2"] = np.array(["text"])  # set behind the API's back
    with pytest.raises(ValueError, match="must be numeric"):
        editor.save(target)
    assert open(target, "rb").read() == before
    assert [n for n in os.listdir(tmp_path) if n != "m.weights.h5"] == []


def test_links_in_the_file_are_refused(tmp_path):
    path = str(tmp_path / "m.weights.h5")
    _mlp(keraslike).save_weights(path)
    with h5py.File(path, "a") as f:
        f["layers/dense/vars/2"] = h5py.SoftLink("/layers/dense_1/vars/0")
    with pytest.raises(ValueError, match="SoftLink"):
        KerasFileEditor(path)


def test_added_torch_and_bfloat16_values_are_saved_as_keras_reads_them(tmp_path):
    torch = pytest.importorskip("torch")
    path = str(tmp_path / "m.weights.h5")
    _mlp(keraslike).save_weights(path)
    editor = KerasFileEditor(path)
    kernel = torch.arange(10, dtype=torch.bfloat16).reshape(2, 5)
    editor.add_weights("dense_1", {"0": torch.ones(5, 2), "1": torch.full((2,), 3.0)})
    editor.add_object("extra", {"0": kernel})
    editor.save(str(tmp_path / "out.weights.h5"))
    reread = KerasFileEditor(str(tmp_path / "out.weights.h5")).weights_dict
    np.testing.assert_array_equal(reread["layers"]["dense_1"]["1"], [3.0, 3.0])
    np.testing.assert_array_equal(reread["extra"]["0"], np.arange(10, dtype="float32").reshape(2, 5))
