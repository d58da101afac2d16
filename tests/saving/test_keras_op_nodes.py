"""Op nodes save as Keras 3 saves them: a model using `keras.ops` and Python operators on
symbolic tensors gives Keras's config and a `.keras` file Keras loads (and the other way round).
"""

import json
import zipfile

import keras as real_keras
import numpy as np
import pytest
import torch

import keraslike as keras


def _build(K):
    K.backend.clear_session()
    tokens = K.Input((6,), dtype="int32", name="tokens")
    values = K.Input((6,), name="values")
    seq = K.layers.Embedding(10, 4, mask_zero=True)(tokens)
    seq = K.layers.LSTM(3)(seq)
    x = values[:, 1:] * 2.0 - 1.0
    x = K.ops.mean(x, axis=1, keepdims=True) + abs(-values[:, :1]) / 3.0
    y = K.ops.expand_dims(values, -1)[..., 0] ** 2 // 1.5 % 4.0
    flags = K.ops.cast((values != 0) & (values > -1.0) | ~(values >= 5.0), "float32")
    z = K.ops.concatenate([x, y, flags, seq, round(values, 1)], axis=-1)
    z = K.ops.where(z > 0.5, z, K.ops.zeros_like(z))
    z = K.ops.reshape(K.ops.sum(K.ops.reshape(z, (-1, 2, 11)), axis=1), (-1, 11))
    hot = K.ops.one_hot(tokens[:, 0], 11)
    masked = K.layers.Masking(mask_value=0.0)(K.ops.expand_dims(values, -1))
    pooled = K.layers.GlobalAveragePooling1D()(masked)
    return K.Model([tokens, values], [z + hot, pooled])


def _data():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 10, (3, 6)).astype("int32")
    tokens[:, 4:] = 0
    values = rng.normal(size=(3, 6)).astype("float32")
    values[0, 2] = 0.0
    return [tokens, values]


def _numpy(outputs):
    return [np.asarray(o.detach().cpu() if isinstance(o, torch.Tensor) else o) for o in outputs]


def _copy_weights(source, target):
    target.set_weights([np.asarray(w) for w in source.get_weights()])


def test_config_of_ops_and_operators_equals_keras():
    ours = _build(keras).get_config()
    theirs = _build(real_keras).get_config()
    theirs = json.loads(json.dumps(theirs, default=str))
    ours = json.loads(json.dumps(ours, default=str))
    op_layers = [layer for layer in theirs["layers"] if layer["module"].startswith("keras.src.ops")]
    assert len(op_layers) > 20
    assert [layer["name"] for layer in ours["layers"]] == [layer["name"] for layer in theirs["layers"]]
    for mine, keras_layer in zip(ours["layers"], theirs["layers"]):
        if keras_layer["module"].startswith("keras.src.ops"):
            # Keras's `one_hot` writes the default dtype it resolved (`floatx()`); keraslike
            # writes the argument as given (`None`), which Keras's constructor resolves alike.
            if mine["config"].get("dtype", "") is None:
                mine["config"]["dtype"] = keras_layer["config"]["dtype"]
            assert mine == keras_layer


def test_keras_loads_the_file_keraslike_saved_and_back(tmp_path):
    data = _data()
    model = _build(keras)
    path = tmp_path / "ops.keras"
    model.save(path)
    loaded = real_keras.models.load_model(path)
    expected = _numpy(model(data))
    for got, want in zip(_numpy(loaded(data)), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    keras_path = tmp_path / "from_keras.keras"
    loaded.save(keras_path)
    again = keras.models.load_model(keras_path)
    for got, want in zip(_numpy(again(data)), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_summary_shows_keras_op_classes(capsys):
    _build(keras).summary()
    text = capsys.readouterr().out
    for shown in ("(NotEqual)", "(GetItem)", "mean (Mean)", "cast (Cast)", "(OneHot)",
                  "(LogicalOr)", "(Absolute)", "(Power)", "(FloorDivide)", "(Mod)", "(Round)"):
        assert shown in text
    assert "TorchFunction" not in text and "OpNode" not in text


def test_a_torch_call_keras_cannot_express_saves_the_keraslike_way(tmp_path):
    x = keras.Input((4,), name="x")
    model = keras.Model(x, [torch.cumsum(x, dim=1), torch.add(x, x, alpha=2.0)])
    path = tmp_path / "torch_ops.keras"
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    classes = [layer["class_name"] for layer in config["config"]["layers"]]
    assert classes == ["InputLayer", "TorchFunction", "TorchFunction"]
    data = np.arange(8, dtype="float32").reshape(2, 4)
    loaded = keras.models.load_model(path)
    for got, want in zip(_numpy(loaded(data)), _numpy(model(data))):
        np.testing.assert_allclose(got, want)
    with pytest.raises(Exception, match="TorchFunction"):
        real_keras.models.load_model(path)
