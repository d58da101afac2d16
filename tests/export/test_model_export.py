"""`model.export`: torch.export programs and ONNX files, verified, with Keras names and dynamic dims."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers
from keraslike.export import ExportVerificationError


def _cnn():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(3)(x))


def _mlp():
    inputs = keras.Input((6,))
    x = layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, layers.Dense(2)(x))


def _attention():
    query = keras.Input((None, 16), name="tokens")
    return keras.Model(query, layers.MultiHeadAttention(2, 8)(query, query))


def _embedding_lstm(length):
    tokens = keras.Input((length,), dtype="int64", name="tokens")
    x = layers.Embedding(20, 4)(tokens)
    return keras.Model(tokens, layers.LSTM(3)(x))


def _two_inputs_dict_outputs():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    merged = layers.Concatenate()([a, b])
    outputs = {"score": layers.Dense(1, name="score_head")(merged), "logits": layers.Dense(2)(merged)}
    return keras.Model({"a": a, "b": b}, outputs)


def _settle(model):
    """Non-trivial BatchNorm statistics, so inference and training modes really differ."""
    for module in model.modules():
        if hasattr(module, "running_mean"):
            with torch.no_grad():
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    return model


def _flatten(out):
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _inputs(model, batch, length=None):
    result = []
    for t in model.inputs:
        shape = [batch] + [length if d is None else d for d in t.shape[1:]]
        if "int" in str(t.dtype):
            result.append(torch.randint(0, 5, shape))
        else:
            result.append(torch.rand(shape))
    return result


def _call(model, inputs):
    with torch.no_grad():
        if len(inputs) == 1:
            return _flatten(model(inputs[0], training=False))
        names = [t._keras_history[0].name for t in model.inputs]
        return _flatten(model(dict(zip(names, inputs)), training=False))


CASES = {
    "mlp": (_mlp, None),
    "cnn_batchnorm_dropout": (_cnn, None),
    "attention_dynamic_sequence": (_attention, 7),
    "embedding_lstm_static": (lambda: _embedding_lstm(5), None),
    "two_inputs_dict_outputs": (_two_inputs_dict_outputs, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_program_round_trip_at_new_batch(case, tmp_path):
    build, length = CASES[case]
    model = _settle(build())
    path = tmp_path / "model.pt2"
    model.export(path, verbose=False)
    program = torch.export.load(str(path))
    inputs = _inputs(model, batch=9, length=length)
    expected = _call(model, inputs)
    actual = program.module()(*inputs)
    actual = list(actual) if isinstance(actual, (list, tuple)) else [actual]
    assert len(actual) == len(expected)
    for e, a in zip(expected, actual):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_runs_in_onnxruntime_at_two_batch_sizes(case, tmp_path):
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    build, length = CASES[case]
    model = _settle(build())
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx", verbose=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_names = [t._keras_history[0].name for t in model.inputs]
    assert [i.name for i in session.get_inputs()] == input_names
    for batch in (3, 11):
        inputs = _inputs(model, batch=batch, length=length)
        expected = _call(model, inputs)
        actual = session.run(None, {n: x.numpy() for n, x in zip(input_names, inputs)})
        for e, a in zip(expected, actual):
            np.testing.assert_allclose(a, e.numpy(), rtol=1e-5, atol=1e-5)


def test_onnx_names_are_keras_names_and_dims_are_named(tmp_path):
    pytest.importorskip("onnxscript")
    onnx = pytest.importorskip("onnx")
    model = _two_inputs_dict_outputs()
    path = tmp_path / "two.onnx"
    model.export(path, format="onnx", verbose=False)
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["a", "b"]
    assert [o.name for o in graph.output] == ["logits", "score"]
    for value in list(graph.input) + list(graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"

    attention = _attention()
    path = tmp_path / "attention.onnx"
    attention.export(path, format="onnx", verbose=False)
    dims = [d.dim_param for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim]
    assert dims[:2] == ["batch", "tokens_dim1"]


def test_lstm_over_dynamic_time_axis_is_refused_naming_the_layer(tmp_path):
    model = _embedding_lstm(None)
    path = tmp_path / "lstm.pt2"
    with pytest.raises(ValueError, match=r'"lstm" \(LSTM\).*input_signature'):
        model.export(path, verbose=False)
    assert not path.exists()
    model.export(path, input_signature=[(None, 6)], verbose=False)
    program = torch.export.load(str(path))
    tokens = torch.randint(0, 20, (4, 6))
    torch.testing.assert_close(program.module()(tokens), _call(model, [tokens])[0], rtol=0, atol=1e-6)


def test_train_mode_model_exports_inference_and_keeps_its_mode(tmp_path):
    model = _settle(_cnn())
    model.train()
    path = tmp_path / "cnn.pt2"
    model.export(path, verbose=False)
    assert model.training
    x = torch.rand(4, 8, 8, 3)
    model.eval()
    with torch.no_grad():
        expected = model(x)
    torch.testing.assert_close(torch.export.load(str(path)).module()(x), expected, rtol=0, atol=1e-6)


class _Drifting(keras.layers.Layer):
    """Computes something different on each call: what tracing froze no longer matches."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x * self.calls


def test_artifact_that_differs_from_eager_raises_with_numbers(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, _Drifting()(inputs))
    path = tmp_path / "drift.pt2"
    with pytest.raises(ExportVerificationError, match="largest absolute difference"):
        model.export(path, verbose=False)
    assert not path.exists()


def test_models_loaded_from_files_export(tmp_path):
    model = _settle(_cnn())
    x = torch.rand(5, 8, 8, 3)
    for name in ("m.keras", "m.safetensors"):
        model.save(tmp_path / name)
        loaded = keras.saving.load_model(tmp_path / name)
        loaded.export(tmp_path / f"{name}.pt2", verbose=False)
        program = torch.export.load(str(tmp_path / f"{name}.pt2"))
        torch.testing.assert_close(program.module()(x), _call(model, [x])[0], rtol=0, atol=1e-6)


def test_bad_arguments(tmp_path):
    model = _mlp()
    with pytest.raises(ValueError, match="tf_saved_model.*TensorFlow"):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(ValueError, match="does not fit"):
        model.export(tmp_path / "m.pt2", input_signature=[(None, 7)])
    with pytest.raises(ValueError, match="2 entries"):
        model.export(tmp_path / "m.pt2", input_signature=[(None, 6), (None, 6)])
    sub = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="no known inputs"):
        sub.export(tmp_path / "s.pt2")


def test_verbose_says_what_was_checked(tmp_path, capsys):
    _mlp().export(tmp_path / "m.pt2")
    out = capsys.readouterr().out
    assert "dynamic dimensions ['batch']" in out and "(2, 6)" in out and "(5, 6)" in out
