"""Parity of SimpleRNN, LSTM, GRU and RNN(cell) with Keras 3: every option, masks, states."""

import numpy as np
import pytest
import torch

import keraslike
from tests.layers.test_recurrent_harness import (  # noqa: F401 - single_thread is a fixture
    assert_outputs_close,
    build_pair,
    call_both,
    check_rnn,
    left_padded,
    right_padded,
    single_thread,
)

B, T, F = 3, 6, 5

OPTIONS = [
    {},
    {"return_sequences": True},
    {"return_state": True},
    {"return_sequences": True, "return_state": True},
    {"go_backwards": True, "return_sequences": True},
    {"go_backwards": True, "return_state": True},
    {"use_bias": False, "return_sequences": True},
    {"activation": "relu", "return_sequences": True},
    {"unroll": True, "return_sequences": True},
    {"dropout": 0.3, "recurrent_dropout": 0.2, "return_sequences": True},
]
LSTM_GRU_ONLY = [
    {"recurrent_activation": "hard_sigmoid", "return_sequences": True},
    {"use_cudnn": False, "return_sequences": True, "return_state": True},
]


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in c.items()) or "default" for c in cases]


@pytest.mark.parametrize("kwargs", OPTIONS + LSTM_GRU_ONLY, ids=_ids(OPTIONS + LSTM_GRU_ONLY))
def test_lstm_parity(kwargs):
    check_rnn(lambda lib: lib.layers.LSTM(4, **kwargs), (B, T, F))


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("kwargs", OPTIONS + LSTM_GRU_ONLY, ids=_ids(OPTIONS + LSTM_GRU_ONLY))
def test_gru_parity(kwargs, reset_after):
    check_rnn(lambda lib: lib.layers.GRU(4, reset_after=reset_after, **kwargs), (B, T, F))


SIMPLE_OPTIONS = [k for k in OPTIONS] + [{"activation": "sigmoid", "return_sequences": True}]


@pytest.mark.parametrize("kwargs", SIMPLE_OPTIONS, ids=_ids(SIMPLE_OPTIONS))
def test_simple_rnn_parity(kwargs):
    check_rnn(lambda lib: lib.layers.SimpleRNN(4, **kwargs), (B, T, F))


def test_lstm_unit_forget_bias_and_initializers():
    layer, keras_layer, _, _ = check_rnn(
        lambda lib: lib.layers.LSTM(3, unit_forget_bias=False, bias_initializer="ones"), (B, T, F)
    )
    fresh = keraslike.layers.LSTM(3)
    fresh(torch.zeros(2, 4, 5))
    kernel, recurrent, bias = fresh.get_weights()
    assert kernel.shape == (5, 12) and recurrent.shape == (3, 12) and bias.shape == (12,)
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    # orthogonal recurrent kernel (per Keras: the (u, 4u) matrix has orthonormal rows)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-5)
    limit = np.sqrt(6 / (5 + 12))
    assert np.abs(kernel).max() <= limit


MASKS = {
    "right": right_padded(B, T, [6, 4, 2]),
    "left": left_padded(B, T, [6, 3, 1]),
    "holes": np.array([[1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1], [0, 1, 0, 0, 1, 0]], bool),
    "empty_row": right_padded(B, T, [5, 0, 2]),
    "full": np.ones((B, T), bool),
}
MASK_OPTIONS = [
    {"return_sequences": True},
    {"return_state": True},
    {"go_backwards": True, "return_sequences": True, "return_state": True},
]


@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("kwargs", MASK_OPTIONS, ids=_ids(MASK_OPTIONS))
@pytest.mark.parametrize(
    "make",
    [
        lambda lib, **kw: lib.layers.LSTM(4, **kw),
        lambda lib, **kw: lib.layers.GRU(4, **kw),
        lambda lib, **kw: lib.layers.GRU(4, reset_after=False, **kw),
        lambda lib, **kw: lib.layers.SimpleRNN(4, **kw),
    ],
    ids=["lstm", "gru", "gru_reset_before", "simple_rnn"],
)
def test_masks_match_keras(make, kwargs, mask_name):
    check_rnn(lambda lib: make(lib, **kwargs), (B, T, F), mask=MASKS[mask_name],
              symbolic=False, config=False)


def test_right_padded_mask_runs_packed_fused_kernel(monkeypatch):
    from keraslike.layers.recurrent import fused

    calls = []
    original = fused.run

    def spy(*args, **kwargs):
        calls.append(args[-1] if len(args) > 5 else kwargs.get("lengths"))
        return original(*args, **kwargs)

    monkeypatch.setattr(fused, "run", spy)
    check_rnn(lambda lib: lib.layers.LSTM(4, return_sequences=True), (B, T, F),
              mask=MASKS["right"], symbolic=False, config=False)
    assert calls and calls[-1] is not None  # the packed path ran
    calls.clear()
    check_rnn(lambda lib: lib.layers.LSTM(4, return_sequences=True), (B, T, F),
              mask=MASKS["left"], symbolic=False, config=False)
    assert not calls  # left padding takes the step loop


@pytest.mark.parametrize(
    "make,n_states",
    [
        (lambda lib: lib.layers.LSTM(4, return_sequences=True, return_state=True), 2),
        (lambda lib: lib.layers.GRU(4, return_state=True), 1),
        (lambda lib: lib.layers.GRU(4, return_state=True, reset_after=False), 1),
        (lambda lib: lib.layers.SimpleRNN(4, return_state=True, go_backwards=True), 1),
        (lambda lib: lib.layers.LSTM(4, activation="relu", return_state=True), 2),
    ],
    ids=["lstm", "gru", "gru_before", "simple_rnn", "lstm_loop"],
)
def test_initial_state(make, n_states):
    rng = np.random.default_rng(1)
    states = [rng.standard_normal((B, 4)).astype("float32") for _ in range(n_states)]
    check_rnn(make, (B, T, F), initial_state=states, symbolic=False, config=False)
    check_rnn(make, (B, T, F), initial_state=states, mask=MASKS["left"], symbolic=False,
              config=False)


def test_return_state_ordering_is_output_h_c():
    layer = keraslike.layers.LSTM(4, return_sequences=True, return_state=True)
    seq, h, c = layer(torch.randn(B, T, F))
    assert seq.shape == (B, T, 4) and h.shape == (B, 4) and c.shape == (B, 4)
    torch.testing.assert_close(seq[:, -1], h)
    assert not torch.allclose(h, c)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
def test_stateful_carries_states_like_keras(cls):
    rng = np.random.default_rng(2)
    x1, x2 = (rng.standard_normal((B, T, F)).astype("float32") for _ in range(2))
    keras_layer, layer = build_pair(lambda lib: getattr(lib.layers, cls)(4, stateful=True))
    ours, theirs = call_both(keras_layer, layer, x1)
    layer.reset_state()
    keras_layer.reset_state()
    for x in (x1, x2):
        ours, theirs = call_both(keras_layer, layer, x, copy=False)
        assert_outputs_close(ours, theirs, what=cls)
    assert [s.shape for s in layer.states] == [(B, 4)] * (2 if cls == "LSTM" else 1)
    layer.reset_state()
    keras_layer.reset_state()
    assert_outputs_close(*call_both(keras_layer, layer, x2, copy=False), what=cls)
    with pytest.raises(ValueError, match="batch size"):
        layer(torch.zeros(B + 1, T, F))


@pytest.mark.parametrize(
    "cell",
    ["LSTMCell", "GRUCell", "SimpleRNNCell"],
)
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "return_state": True}],
                         ids=["last", "seq_state"])
def test_rnn_with_builtin_cell(cell, kwargs):
    layer, _, _, _ = check_rnn(lambda lib: lib.layers.RNN(getattr(lib.layers, cell)(4), **kwargs),
                               (B, T, F))
    assert [k.split(".")[0] for k in layer.state_dict()] == ["cell"] * len(layer.state_dict())
    check_rnn(lambda lib: lib.layers.RNN(getattr(lib.layers, cell)(4), **kwargs), (B, T, F),
              mask=MASKS["holes"], symbolic=False, config=False)


def _minimal_cell(lib):
    class MinimalRNNCell(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")
            self.built = True

        def call(self, inputs, states):
            output = lib.ops.tanh(lib.ops.matmul(inputs, self.kernel)
                                  + lib.ops.matmul(states[0], self.recurrent_kernel)) \
                if hasattr(lib, "ops") and hasattr(lib.ops, "tanh") else \
                torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
            return output, [output]

    return MinimalRNNCell(4)


def test_rnn_with_custom_cell():
    check_rnn(lambda lib: lib.layers.RNN(_minimal_cell(lib), return_sequences=True), (B, T, F),
              mask=MASKS["left"], symbolic=False, config=False)
    layer = keraslike.layers.RNN(_minimal_cell(keraslike), go_backwards=True)
    assert layer(torch.randn(B, T, F)).shape == (B, 4)


def test_cells_step_like_keras():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((B, F)).astype("float32")
    h = rng.standard_normal((B, 4)).astype("float32")
    for name, n in (("LSTMCell", 2), ("GRUCell", 1), ("SimpleRNNCell", 1)):
        keras_cell, cell = build_pair(lambda lib: getattr(lib.layers, name)(4))
        states = [h] * n
        keras_out = keras_cell(x, [s for s in states])
        cell(torch.as_tensor(x), [torch.as_tensor(s) for s in states])
        cell.set_weights(keras_cell.get_weights())
        ours = cell(torch.as_tensor(x), [torch.as_tensor(s) for s in states])
        from tests.layer_harness import _to_numpy

        assert_outputs_close(_to_numpy(ours), _to_numpy(keras_out), what=name)


def test_regularizers_match_keras():
    make = lambda lib: lib.layers.LSTM(  # noqa: E731
        4, kernel_regularizer="l2", recurrent_regularizer="l1", bias_regularizer="l2",
        activity_regularizer=None,
    )
    layer, keras_layer, _, _ = check_rnn(make, (B, T, F), symbolic=False)
    ours = sorted(float(loss.detach()) for loss in layer.losses)
    theirs = sorted(float(loss.detach()) for loss in keras_layer.losses)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    layer, keras_layer, _, _ = check_rnn(
        lambda lib: lib.layers.GRU(4, kernel_regularizer="l1", bias_regularizer="l1"), (B, T, F),
        symbolic=False,
    )
    np.testing.assert_allclose(sorted(float(v.detach()) for v in layer.losses),
                               sorted(float(v.detach()) for v in keras_layer.losses), rtol=1e-5)


def test_constraints_in_config():
    check_rnn(
        lambda lib: lib.layers.GRU(3, kernel_constraint="max_norm", recurrent_constraint="non_neg",
                                   bias_constraint="unit_norm"),
        (B, T, F),
    )


def test_state_dict_loads_into_torch_modules():
    x = torch.randn(B, T, F)
    layer = keraslike.layers.LSTM(4, return_sequences=True, return_state=True)
    seq, h, c = layer(x)
    torch_lstm = torch.nn.LSTM(F, 4, batch_first=True)
    torch_lstm.load_state_dict(layer.state_dict())
    out, (h_t, c_t) = torch_lstm(x)
    torch.testing.assert_close(seq, out)
    torch.testing.assert_close(c, c_t[0])
    # and back: a torch state dict (two biases) gives Keras's single summed bias
    torch_lstm = torch.nn.LSTM(F, 4, batch_first=True)
    layer.load_state_dict(torch_lstm.state_dict())
    np.testing.assert_allclose(
        layer.get_weights()[2],
        (torch_lstm.bias_ih_l0 + torch_lstm.bias_hh_l0).detach().numpy(), rtol=1e-6)
    torch.testing.assert_close(layer(x)[0], torch_lstm(x)[0])

    rnn = keraslike.layers.SimpleRNN(4, return_sequences=True)
    y = rnn(x)
    torch_rnn = torch.nn.RNN(F, 4, batch_first=True)
    torch_rnn.load_state_dict(rnn.state_dict())
    torch.testing.assert_close(y, torch_rnn(x)[0])

    gru = keraslike.layers.GRU(4, return_sequences=True)
    y = gru(x)
    torch_gru = torch.nn.GRU(F, 4, batch_first=True)
    state = gru.state_dict()
    torch_gru.load_state_dict({"weight_ih_l0": state["weight_ih_l0"],
                               "weight_hh_l0": state["weight_hh_l0"],
                               "bias_ih_l0": state["bias"][0], "bias_hh_l0": state["bias"][1]})
    torch.testing.assert_close(y, torch_gru(x)[0])


def test_weights_are_stored_once_in_torch_layout():
    layer = keraslike.layers.GRU(4)
    layer(torch.randn(B, T, F))
    names = [n for n, _ in layer.named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "bias"]
    assert layer.weight_ih_l0.shape == (12, F)
    assert tuple(layer.cell.kernel.shape) == (F, 12)
    assert tuple(layer.kernel.shape) == (F, 12)
    # Keras z, r, h  <->  torch r, z, n
    kernel = layer.get_weights()[0]
    np.testing.assert_array_equal(layer.weight_ih_l0.detach().numpy()[:4], kernel[:, 4:8].T)
    np.testing.assert_array_equal(layer.weight_ih_l0.detach().numpy()[4:8], kernel[:, :4].T)
    assert len(layer.trainable_weights) == 3 and layer.count_params() == 12 * F + 12 * 4 + 24


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
def test_bad_inputs(cls):
    layer = getattr(keraslike.layers, cls)(4)
    with pytest.raises(ValueError, match=rf'layer "{layer.name}".*expected ndim=3, found ndim=2'):
        layer(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=rf"expected ndim=3, found ndim=2"):
        layer(keraslike.Input(shape=(5,)))
    with pytest.raises(ValueError, match=rf"`units`.*{cls}.*units=-3"):
        getattr(keraslike.layers, cls)(-3)
    with pytest.raises(ValueError, match="units=0"):
        getattr(keraslike.layers, cls + "Cell")(0)


def test_dropout_in_training():
    torch.manual_seed(0)
    x = torch.randn(8, T, F)
    rates = ({"dropout": 0.5}, {"recurrent_dropout": 0.5},
             {"dropout": 0.3, "recurrent_dropout": 0.3})
    for kwargs in rates:
        for cls in ("LSTM", "GRU", "SimpleRNN"):
            layer = getattr(keraslike.layers, cls)(4, return_sequences=True, **kwargs)
            inference = layer(x)
            torch.testing.assert_close(layer(x, training=False), inference)
            trained = layer(x, training=True)
            assert trained.shape == inference.shape
            assert not torch.allclose(trained, inference)
            trained.sum().backward()
            assert layer.weight_ih_l0.grad is not None


def test_gru_reset_before_parity_in_training_without_dropout():
    check_rnn(lambda lib: lib.layers.GRU(4, reset_after=False, return_sequences=True),
              (B, T, F), training=True, symbolic=False, config=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: keraslike.layers.LSTM(3, return_sequences=True, return_state=True),
        lambda: keraslike.layers.LSTM(3, return_sequences=True, use_cudnn=False),
        lambda: keraslike.layers.GRU(3, return_sequences=True, return_state=True),
        lambda: keraslike.layers.GRU(3, return_sequences=True, reset_after=False),
        lambda: keraslike.layers.SimpleRNN(3, return_sequences=True),
    ],
    ids=["lstm_fused", "lstm_loop", "gru_fused", "gru_reset_before", "simple_rnn"],
)
def test_gradcheck(make):
    layer = make()
    layer(torch.randn(2, 4, 3))
    layer.double()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for p in layer.parameters()]

    def fn(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps)), (x,))

    def fn_masked(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps)), (x,), {"mask": mask})

    assert torch.autograd.gradcheck(fn, (x, *params), eps=1e-6, atol=1e-5)
    assert torch.autograd.gradcheck(fn_masked, (x, *params), eps=1e-6, atol=1e-5)


def test_masking_layer_mask_flows_into_rnns_in_a_model():
    keras = pytest.importorskip("keras")
    keras.backend.clear_session(free_memory=False)
    rng = np.random.default_rng(5)
    data = rng.standard_normal((B, T, F)).astype("float32")
    data[0, 4:] = 0.0  # right padding
    data[1, :2] = 0.0  # left padding
    data[2, 3] = 0.0  # a hole

    def make(lib):
        inputs = lib.Input(shape=(T, F))
        x = lib.layers.Masking()(inputs)
        x = lib.layers.LSTM(4, return_sequences=True)(x)
        x = lib.layers.Bidirectional(lib.layers.GRU(3, return_sequences=True))(x)
        x = lib.layers.SimpleRNN(3)(x)
        return lib.Model(inputs, x)

    keras_model, model = make(keras), make(keraslike)
    model.set_weights(keras_model.get_weights())
    ours = model(torch.as_tensor(data)).detach().numpy()
    theirs = keras.ops.convert_to_numpy(keras_model(data))
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_initial_state_in_a_functional_model():
    keras = pytest.importorskip("keras")
    keras.backend.clear_session(free_memory=False)

    def make(lib):
        x = lib.Input(shape=(T, F))
        h = lib.Input(shape=(4,))
        c = lib.Input(shape=(4,))
        y, hh, cc = lib.layers.LSTM(4, return_state=True)(x, initial_state=[h, c])
        return lib.Model([x, h, c], [y, hh, cc])

    keras_model, model = make(keras), make(keraslike)
    assert [tuple(t.shape) for t in model.outputs] == [(None, 4)] * 3
    model.set_weights(keras_model.get_weights())
    rng = np.random.default_rng(4)
    data = [rng.standard_normal(s).astype("float32") for s in ((B, T, F), (B, 4), (B, 4))]
    ours = model([torch.as_tensor(d) for d in data])
    theirs = keras_model(data)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b), atol=1e-5)


def test_torch_compile_fullgraph():
    layer = keraslike.layers.LSTM(4, return_sequences=True)
    x = torch.randn(B, T, F)
    expected = layer(x)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), expected)
    gru = keraslike.layers.GRU(4, reset_after=False)
    expected = gru(x)
    torch.testing.assert_close(torch.compile(gru, fullgraph=True, backend="eager")(x), expected)


@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "return_state": True}],
                         ids=["last", "seq_state"])
def test_rnn_with_stacked_cells(kwargs):
    def make(lib):
        return lib.layers.RNN([lib.layers.LSTMCell(4), lib.layers.GRUCell(3),
                               lib.layers.SimpleRNNCell(2)], **kwargs)

    layer, _, _, _ = check_rnn(make, (B, T, F))
    assert len(layer.get_weights()) == 9
    check_rnn(make, (B, T, F), mask=MASKS["holes"], symbolic=False, config=False)


def test_numpy_mask_and_initial_state():
    layer = keraslike.layers.GRU(4, return_state=True)
    x = np.random.default_rng(6).standard_normal((B, T, F)).astype("float32")
    out, h = layer(x, mask=MASKS["left"], initial_state=[np.zeros((B, 4), "float32")])
    torch.testing.assert_close(out, h)
    ref, _ = layer(torch.as_tensor(x), mask=torch.as_tensor(MASKS["left"]))
    torch.testing.assert_close(out, ref)


def test_torch_compile_with_mask_uses_the_loop():
    layer = keraslike.layers.LSTM(4, return_sequences=True)
    x = torch.randn(B, T, F)
    mask = torch.as_tensor(MASKS["right"])
    expected = layer(x, mask=mask)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x, mask=mask), expected)
