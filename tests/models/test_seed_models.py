"""The guide's models: parameter counts, output shapes, summaries and outputs equal to Keras 3's."""

import numpy as np
import pytest
import torch

import keraslike
from tests.models import seed_models


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    return keras


def _parity(keras, builder, inputs, atol=1e-5, **kwargs):
    keras.backend.clear_session()
    theirs = builder(keras, **kwargs)
    keraslike.backend.clear_session()
    ours = builder(keraslike, **kwargs)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    ours = ours if isinstance(ours, tuple) else (ours,)
    for a, b in zip(ours, theirs):
        a.set_weights(b.get_weights())
    expected = keras.ops.convert_to_numpy(theirs[-1](inputs))
    actual = ours[-1](inputs).detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=atol)
    return ours, theirs


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines[0]


def test_mnist_model(keras):
    (model,), (theirs,) = _parity(keras, seed_models.mnist_model, np.random.rand(4, 784).astype("float32"))
    assert model.count_params() == 55050
    assert model.output.shape == (None, 10)
    assert [layer.name for layer in model.layers] == [layer.name for layer in theirs.layers]
    assert _summary(model) == _summary(theirs)


def test_encoder_decoder_autoencoder(keras):
    x = np.random.rand(2, 28, 28, 1).astype("float32")
    ours, theirs = _parity(keras, seed_models.encoder_decoder, x)
    encoder, decoder, autoencoder = ours
    assert encoder.count_params() == 18672
    assert decoder.count_params() == 9569
    assert autoencoder.count_params() == 28241
    assert encoder.output.shape == (None, 16)
    assert autoencoder.output.shape == (None, 28, 28, 1)
    for a, b in zip(ours, theirs):
        assert _summary(a) == _summary(b)
    assert "encoder (Functional)" in _summary(autoencoder)


def test_autoencoder_over_one_graph_shares_weights(keras):
    encoder, autoencoder = seed_models.shared_graph_autoencoder(keraslike)
    assert encoder.count_params() == 18672
    assert autoencoder.count_params() == 28241
    shared = {id(p) for p in encoder.parameters()}
    assert shared <= {id(p) for p in autoencoder.parameters()}


def test_ensemble(keras):
    (model,), (theirs,) = _parity(keras, seed_models.ensemble, np.random.rand(3, 128).astype("float32"))
    assert model.count_params() == 3 * 129
    assert _summary(model) == _summary(theirs)


def test_toy_resnet(keras):
    x = np.random.rand(2, 32, 32, 3).astype("float32")
    (model,), (theirs,) = _parity(keras, seed_models.toy_resnet, x)
    assert model.count_params() == 223242
    assert _summary(model) == _summary(theirs)
    assert "Connected to" in _summary(model)


@pytest.mark.slow
def test_big_conv_sequential(keras):
    x = np.random.rand(1, 224, 224, 3).astype("float32")
    (model,), (theirs,) = _parity(keras, seed_models.big_conv_sequential, x, atol=1e-4)
    assert model.count_params() == 92218123
    assert model.output_shape == (None, 1)
    assert [layer.output.shape for layer in model.layers] == [
        (None, 220, 220, 100),
        (None, 216, 216, 50),
        (None, 212, 212, 32),
        (None, 1438208),
        (None, 64),
        (None, 1),
    ]
    assert _summary(model) == _summary(theirs)


def test_big_conv_conversions():
    """Seed 001: Sequential -> Functional and back, with the same layers and weights."""
    with torch.device("meta"):  # structure only: 92M weights need no memory or initialization
        s_model = seed_models.big_conv_sequential(keraslike)
    input_layer = keraslike.layers.Input(shape=(224, 224, 3))
    x = s_model.layers[0](input_layer)
    for layer in s_model.layers[1:]:
        x = layer(x)
    f3_model = keraslike.Model(inputs=input_layer, outputs=x, name="f3_model")
    assert f3_model.count_params() == 92218123
    s1_model = keraslike.Sequential()
    for layer in f3_model.layers:
        s1_model.add(layer)
    assert s1_model.count_params() == 92218123
    assert [layer.name for layer in s1_model.layers] == [layer.name for layer in s_model.layers]
    assert f3_model.layers[-1].output.shape == (None, 1)
    assert f3_model.layers[-1].input.shape == (None, 64)
    assert isinstance(f3_model.inputs, list) and isinstance(f3_model.outputs, list)


def test_ticket_model(keras):
    pytest.importorskip("keraslike.layers.recurrent")
    data = [
        np.random.randint(1, 10000, size=(2, 7)).astype("float32"),
        np.random.randint(1, 10000, size=(2, 5)).astype("float32"),
        np.random.randint(0, 2, size=(2, 12)).astype("float32"),
    ]
    keras.backend.clear_session()
    theirs = seed_models.ticket_model(keras)
    keraslike.backend.clear_session()
    ours = seed_models.ticket_model(keraslike)
    ours.set_weights(theirs.get_weights())
    expected = theirs(data)
    actual = ours(data)
    assert set(actual) == {"priority", "department"}
    for key in actual:
        np.testing.assert_allclose(actual[key].detach().numpy(), keras.ops.convert_to_numpy(expected[key]), atol=1e-5)
    assert _summary(ours) == _summary(theirs)
    by_name = ours({"title": data[0], "body": data[1], "tags": data[2]})
    torch.testing.assert_close(by_name["priority"], actual["priority"])
