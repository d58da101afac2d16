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
from keraslike import ops


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


_OP_CASES = {  # op node -> a graph using it on a (None, 3, 4) input
    "softmax": lambda x: ops.softmax(x, axis=1),
    "log_softmax": lambda x: ops.log_softmax(x, axis=-1),
    "relu": ops.relu,
    "gelu": lambda x: ops.gelu(x, approximate=False),
    "silu": ops.silu,
    "leaky_relu": lambda x: ops.leaky_relu(x, negative_slope=0.3),
    "clip": lambda x: ops.clip(x, -0.5, 0.5),
    "transpose": lambda x: ops.transpose(x, (0, 2, 1)),
    "swapaxes": lambda x: ops.swapaxes(x, 1, 2),
    "moveaxis": lambda x: ops.moveaxis(x, 1, 2),
    "squeeze": lambda x: ops.squeeze(ops.expand_dims(x, 1), axis=1),
    "tile": lambda x: ops.tile(x, (1, 2, 1)),
    "repeat": lambda x: ops.repeat(x, 2, axis=1),
    "flip": lambda x: ops.flip(x, axis=1),
    "roll": lambda x: ops.roll(x, 1, axis=2),
    "cumsum": lambda x: ops.cumsum(x, axis=1),
    "argmax": lambda x: ops.cast(ops.argmax(x, axis=-1), "float32"),
    "max": lambda x: ops.max(x, axis=1, keepdims=True),
    "std": lambda x: ops.std(x, axis=1),
    "var": lambda x: ops.var(x, axis=-1),
    "norm": lambda x: ops.norm(x, axis=-1),
    "logsumexp": lambda x: ops.logsumexp(x, axis=-1),
    "top_k": lambda x: ops.top_k(x, 2)[0],
    "sort": lambda x: ops.sort(x, axis=-1),
    "pad": lambda x: ops.pad(x, [[0, 0], [1, 1], [0, 2]]),
    "stack": lambda x: ops.stack([x, x], axis=1),
    "split": lambda x: ops.split(x, 2, axis=-1)[1],
    "take": lambda x: ops.take(x, [0, 2], axis=1),
    "einsum": lambda x: ops.einsum("bij,bkj->bik", x, x),
    "matmul": lambda x: ops.matmul(x, ops.transpose(x, (0, 2, 1))),
    "tril": lambda x: ops.tril(x),
    "normalize": lambda x: ops.normalize(x, axis=-1),
    "erf": ops.erf,
    "rsqrt": lambda x: ops.rsqrt(ops.abs(x) + 1),
    "slice": lambda x: ops.slice(x, (0, 1, 0), (2, 2, 4)),
    "dot": lambda x: ops.dot(x, ops.ones((4, 2))),
    "arctan2": lambda x: ops.arctan2(x, x + 2),
    "nan_to_num": lambda x: ops.nan_to_num(x),
    "sign": ops.sign,
    "cast_int": lambda x: ops.cast(ops.cast(x * 3, "int32"), "float32"),
    "maximum": lambda x: ops.maximum(x, 0.2),
    "average": lambda x: ops.average(x, axis=1),
    "one_hot": lambda x: ops.one_hot(ops.argmax(x, axis=-1), 4, axis=-1),
    "image_resize": lambda x: ops.image.resize(ops.expand_dims(x, -1), (6, 8)),
    "conv": lambda x: ops.conv(x, ops.ones((2, 4, 3)), strides=1, padding="same"),
    "avg_pool": lambda x: ops.average_pool(x, 2, strides=1, padding="valid"),
    "logical": lambda x: ops.cast(ops.logical_and(x > 0, ops.logical_not(x > 1)), "float32"),
    "sigmoid": ops.sigmoid,
    "softplus": ops.softplus,
    "reshape_neg": lambda x: ops.reshape(x, (-1, 12)),
    "full_like": lambda x: ops.full_like(x, 2.0),
    "linspace_add": lambda x: x + ops.linspace(0, 1, 4),
    "where1": lambda x: ops.where(x > 0, x, -x),
    "triu": lambda x: ops.triu(x, k=1),
    "diagonal": lambda x: ops.diagonal(x, axis1=1, axis2=2),
    "qr": lambda x: ops.linalg.qr(x)[1],
    "fft": lambda x: ops.fft((x, x))[0],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(_OP_CASES))
def test_each_op_node_round_trips_through_keras(name, tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    inputs = keras.Input((3, 4), name="x")
    model = keras.Model(inputs, _OP_CASES[name](inputs))
    expected = np.asarray(model(x).detach())
    model.save(tmp_path / "ours.keras")
    theirs = real_keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs(x).detach()), expected, rtol=1e-4, atol=1e-5)
    theirs.save(tmp_path / "theirs.keras")
    back = keras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(np.asarray(back(x).detach()), expected, rtol=1e-4, atol=1e-5)
