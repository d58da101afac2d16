"""Parity of Bidirectional, TimeDistributed and ConvLSTM1D/2D/3D with Keras 3."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layers.test_recurrent_harness import (  # noqa: F401 - single_thread is a fixture
    build_pair,
    call_both,
    check_rnn,
    left_padded,
    right_padded,
    single_thread,
)

B, T, F = 3, 5, 4
MERGE_MODES = ["concat", "sum", "mul", "ave", None]


@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
@pytest.mark.parametrize(
    "inner",
    [
        lambda lib: lib.layers.LSTM(3),
        lambda lib: lib.layers.LSTM(3, return_sequences=True),
        lambda lib: lib.layers.GRU(3, return_sequences=True, return_state=True),
        lambda lib: lib.layers.LSTM(3, return_state=True),
        lambda lib: lib.layers.SimpleRNN(3, return_sequences=True),
        lambda lib: lib.layers.GRU(3, reset_after=False),
    ],
    ids=["lstm", "lstm_seq", "gru_seq_state", "lstm_state", "simple_rnn_seq", "gru_before"],
)
def test_bidirectional_parity(inner, merge_mode):
    check_rnn(lambda lib: lib.layers.Bidirectional(inner(lib), merge_mode=merge_mode), (B, T, F))


@pytest.mark.parametrize("merge_mode", ["concat", None], ids=str)
@pytest.mark.parametrize("mask_kind", ["right", "left"])
def test_bidirectional_with_mask(merge_mode, mask_kind):
    mask = (right_padded if mask_kind == "right" else left_padded)(B, T, [5, 3, 1])
    for inner in (lambda lib: lib.layers.LSTM(3, return_sequences=True),
                  lambda lib: lib.layers.GRU(3, return_state=True)):
        check_rnn(lambda lib: lib.layers.Bidirectional(inner(lib), merge_mode=merge_mode),
                  (B, T, F), mask=mask, symbolic=False, config=False)


def test_bidirectional_initial_state_and_backward_layer():
    rng = np.random.default_rng(0)
    states = [rng.standard_normal((B, 3)).astype("float32") for _ in range(4)]
    check_rnn(lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(3, return_state=True)),
              (B, T, F), initial_state=states, symbolic=False, config=False)
    check_rnn(
        lambda lib: lib.layers.Bidirectional(
            lib.layers.LSTM(3, return_sequences=True),
            backward_layer=lib.layers.GRU(2, go_backwards=True, return_sequences=True),
        ),
        (B, T, F),
    )


def test_bidirectional_structure_and_errors():
    layer = keraslike.layers.Bidirectional(keraslike.layers.LSTM(3, name="enc"))
    assert layer.forward_layer.name == "forward_enc"
    assert layer.backward_layer.name == "backward_enc" and layer.backward_layer.go_backwards
    layer(torch.randn(B, T, F))
    keys = list(layer.state_dict())
    assert keys[:2] == ["forward_layer.weight_ih_l0", "forward_layer.weight_hh_l0"]
    assert len(layer.get_weights()) == 6
    with pytest.raises(ValueError, match="Invalid merge mode"):
        keraslike.layers.Bidirectional(keraslike.layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        keraslike.layers.Bidirectional(keraslike.layers.LSTM(3),
                                       backward_layer=keraslike.layers.LSTM(3))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(torch.randn(B, F))


def test_bidirectional_stateful():
    x = np.random.default_rng(1).standard_normal((B, T, F)).astype("float32")
    keras_layer, layer = build_pair(
        lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(3, stateful=True)))
    call_both(keras_layer, layer, x)
    keras_layer.reset_state()
    layer.reset_state()
    for _ in range(2):
        ours, theirs = call_both(keras_layer, layer, x, copy=False)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert len(layer.states) == 4


@pytest.mark.parametrize(
    "inner,shape",
    [
        (lambda lib: lib.layers.Dense(3), (B, T, F)),
        (lambda lib: lib.layers.Dense(2, activation="relu"), (B, T, 2, F)),
        (lambda lib: lib.layers.Dropout(0.5), (B, T, F)),
    ],
    ids=["dense", "dense_4d", "dropout"],
)
def test_time_distributed_parity(inner, shape):
    check_rnn(lambda lib: lib.layers.TimeDistributed(inner(lib)), shape)


def test_time_distributed_conv2d_and_errors():
    if not hasattr(keraslike.layers, "Conv2D"):
        pytest.skip("Conv2D not available")
    check_rnn(lambda lib: lib.layers.TimeDistributed(lib.layers.Conv2D(2, 3)), (2, 3, 6, 6, 2))
    layer = keraslike.layers.TimeDistributed(keraslike.layers.Dense(3))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layer(torch.randn(B, F))
    with pytest.raises(ValueError, match="Please initialize `TimeDistributed`"):
        keraslike.layers.TimeDistributed("dense")


def test_time_distributed_mask_passes_through():
    keras = pytest.importorskip("keras")
    keras.backend.clear_session(free_memory=False)
    rng = np.random.default_rng(2)
    data = rng.standard_normal((B, T, F)).astype("float32")
    data[0, 3:] = 0

    def make(lib):
        inputs = lib.Input(shape=(T, F))
        x = lib.layers.Masking()(inputs)
        x = lib.layers.TimeDistributed(lib.layers.Dense(3))(x)
        return lib.Model(inputs, lib.layers.LSTM(2)(x))

    keras_model, model = make(keras), make(keraslike)
    model.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(model(torch.as_tensor(data)).detach().numpy(),
                               keras.ops.convert_to_numpy(keras_model(data)), atol=1e-5)


CONV_CASES = [
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 3}, (2, 3, 6, 6, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True},
     (2, 3, 5, 5, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                    "return_state": True}, (2, 3, 6, 7, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "go_backwards": True,
                    "return_sequences": True}, (2, 3, 7, 7, 1)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": (3, 2), "data_format": "channels_first",
                    "return_sequences": True, "return_state": True}, (2, 3, 2, 6, 5)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 3, "use_bias": False, "unit_forget_bias": False,
                    "activation": "relu", "dropout": 0.2, "recurrent_dropout": 0.2},
     (2, 3, 5, 5, 2)),
    ("ConvLSTM1D", {"filters": 3, "kernel_size": 2, "return_sequences": True}, (2, 4, 6, 2)),
    ("ConvLSTM3D", {"filters": 2, "kernel_size": 2, "padding": "same"}, (1, 2, 4, 4, 3, 1)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_conv_lstm_parity(name, kwargs, shape):
    check_rnn(lambda lib: getattr(lib.layers, name)(**kwargs), shape)


def test_conv_lstm_mask_initial_state_and_stateful():
    shape = (2, 4, 5, 5, 2)
    mask = left_padded(2, 4, [4, 2])
    rng = np.random.default_rng(3)
    states = [rng.standard_normal((2, 3, 3, 3)).astype("float32") for _ in range(2)]
    def make(lib):
        return lib.layers.ConvLSTM2D(3, 3, return_sequences=True, return_state=True)

    check_rnn(make, shape, mask=mask, symbolic=False, config=False)
    check_rnn(make, shape, initial_state=states, symbolic=False, config=False)
    x = rng.standard_normal(shape).astype("float32")
    keras_layer, layer = build_pair(lambda lib: lib.layers.ConvLSTM2D(3, 3, stateful=True))
    call_both(keras_layer, layer, x)
    keras_layer.reset_state()
    layer.reset_state()
    for _ in range(2):
        ours, theirs = call_both(keras_layer, layer, x, copy=False)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_conv_lstm_weights_and_errors():
    layer = keraslike.layers.ConvLSTM2D(3, (3, 2))
    layer(torch.randn(2, 3, 6, 6, 2))
    assert [tuple(w.shape) for w in layer.get_weights()] == [(3, 2, 2, 12), (3, 2, 3, 12), (12,)]
    assert tuple(layer.weight_ih.shape) == (12, 2, 3, 2)
    np.testing.assert_array_equal(layer.get_weights()[2], [0] * 3 + [1] * 3 + [0] * 6)
    with pytest.raises(ValueError, match="expected ndim=5"):
        layer(torch.randn(2, 6, 6, 2))
    with pytest.raises(ValueError, match="filters=-1"):
        keraslike.layers.ConvLSTM2D(-1, 3)


def test_conv_lstm_gradcheck():
    layer = keraslike.layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True)
    layer(torch.randn(1, 3, 3, 3, 1))
    layer.double()
    x = torch.randn(1, 3, 3, 3, 1, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for p in layer.parameters()]

    def fn(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps)), (x,))

    assert torch.autograd.gradcheck(fn, (x, *params), eps=1e-6, atol=1e-5)
