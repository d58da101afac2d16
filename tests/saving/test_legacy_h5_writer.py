"""`model.save("m.h5")`: the legacy HDF5 model file Keras 3 still writes, in its layout, read by
Keras 3 and by keraslike (weights, compile config and optimizer state)."""

import json
import os

import h5py
import keras as real_keras
import numpy as np
import pytest

import keraslike as keras

_X = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
_Y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")


def _functional(K):
    K.backend.clear_session()
    inner_in = K.Input((4,), name="inner_in")
    a = K.layers.Dense(4, name="a")(inner_in)
    inner = K.Model(inner_in, K.layers.Dense(3, name="b")(a), name="inner")
    inner.get_layer("a").trainable = False  # trainable weights first: the file's order differs
    x = K.Input((6,), name="x")
    h = K.layers.BatchNormalization(name="bn")(K.layers.Dense(4, activation="relu", name="d1")(x))
    return K.Model(x, K.layers.Dense(2, name="d2")(inner(h)))


def _sequential(K):
    K.backend.clear_session()
    return K.Sequential([K.Input((6,)), K.layers.Dense(5, activation="tanh"), K.layers.Dense(2)])


def _out(model):
    return np.asarray(model.predict(_X, verbose=0))


@pytest.mark.parametrize("build", [_functional, _sequential])
def test_keras_reads_the_h5_file_keraslike_writes(build, tmp_path):
    model = build(keras)
    path = tmp_path / "m.h5"
    model.save(path)
    theirs = real_keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(_out(theirs), _out(model), rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in theirs.layers] == [layer.name for layer in model.layers]


def test_the_file_has_keras_s_layout(tmp_path):
    ours, theirs = tmp_path / "ours.h5", tmp_path / "theirs.h5"
    _functional(keras).save(ours)
    _functional(real_keras).save(theirs)
    with h5py.File(ours, "r") as a, h5py.File(theirs, "r") as b:
        assert set(a.attrs) == set(b.attrs)
        assert json.loads(a.attrs["model_config"]) == json.loads(b.attrs["model_config"])
        names = []
        a.visit(names.append)
        expected = []
        b.visit(expected.append)
        assert sorted(names) == sorted(expected)
        for group in ("model_weights/inner", "model_weights/bn"):
            assert list(a[group].attrs["weight_names"]) == list(b[group].attrs["weight_names"])


def test_keraslike_reads_keras_s_file_with_a_frozen_first_sublayer(tmp_path):
    model = _functional(real_keras)
    path = tmp_path / "theirs.h5"
    model.save(path)
    ours = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(_out(ours), _out(model), rtol=1e-5, atol=1e-6)


def test_compile_config_and_optimizer_state_round_trip(tmp_path):
    model = _functional(keras)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    model.fit(_X, _Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / "m.h5"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert int(loaded.optimizer.iterations) == 4
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    again = model.fit(_X, _Y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    resumed = loaded.fit(_X, _Y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    np.testing.assert_allclose(resumed["loss"], again["loss"], rtol=1e-6)
    np.testing.assert_allclose(_out(loaded), _out(model), rtol=1e-5, atol=1e-6)


def test_model_checkpoint_writes_h5(tmp_path):
    model = _sequential(keras)
    model.compile(optimizer="sgd", loss="mse")
    path = str(tmp_path / "best.h5")
    model.fit(_X, _Y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="loss")])
    np.testing.assert_allclose(_out(keras.models.load_model(path)), _out(model), rtol=1e-5, atol=1e-6)


def test_a_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    from keraslike.saving import legacy_h5_writer

    model = _sequential(keras)
    path = tmp_path / "m.h5"
    model.save(path)
    before = path.read_bytes()

    def broken(group, variables):
        raise OSError("disk full")

    monkeypatch.setattr(legacy_h5_writer, "_write_variables", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.h5"]


def test_long_name_lists_are_split_as_keras_splits_them(tmp_path):
    from keraslike.saving import legacy_h5_writer, legacy_h5

    names = [f"layer_with_a_long_name_{i:05d}" for i in range(4000)]
    with h5py.File(tmp_path / "names.h5", "w") as f:
        legacy_h5_writer.write_name_list(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs
        assert legacy_h5._names(f.attrs, "layer_names") == names
