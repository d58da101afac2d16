"""`model.weights` / `trainable_weights` / `non_trainable_weights` show Keras's layouts: the same
paths, shapes, values, `assign` and `v.value.grad` as Keras 3 (the installed `keras` is the oracle).
"""

import numpy as np
import pytest
import torch

import keraslike
from keraslike.callbacks.tensorboard import _named_weights

keras = pytest.importorskip("keras")

# (make the layer from a `keras` module, input shape, input dtype)
LAYERS = {
    "dense": (lambda k: k.layers.Dense(3, name="subject"), (4,), "float32"),
    "einsum_dense": (lambda k: k.layers.EinsumDense("abc,cd->abd", output_shape=(None, 3),
                                                    bias_axes="d", name="subject"), (2, 4), "float32"),
    "conv1d": (lambda k: k.layers.Conv1D(3, 2, name="subject"), (5, 2), "float32"),
    "conv2d": (lambda k: k.layers.Conv2D(3, 2, name="subject"), (4, 4, 2), "float32"),
    "conv3d": (lambda k: k.layers.Conv3D(2, 2, name="subject"), (3, 3, 3, 2), "float32"),
    "conv2d_transpose": (lambda k: k.layers.Conv2DTranspose(3, 2, strides=2, name="subject"),
                         (3, 3, 2), "float32"),
    "depthwise_conv2d": (lambda k: k.layers.DepthwiseConv2D(2, depth_multiplier=2, name="subject"),
                         (4, 4, 3), "float32"),
    "separable_conv2d": (lambda k: k.layers.SeparableConv2D(3, 2, depth_multiplier=2,
                                                            name="subject"), (4, 4, 2), "float32"),
    "lstm": (lambda k: k.layers.LSTM(3, name="subject"), (4, 2), "float32"),
    "gru": (lambda k: k.layers.GRU(3, name="subject"), (4, 2), "float32"),
    "simple_rnn": (lambda k: k.layers.SimpleRNN(3, name="subject"), (4, 2), "float32"),
    "bidirectional_lstm": (lambda k: k.layers.Bidirectional(k.layers.LSTM(3, name="inner"),
                                                             name="subject"),
                           (4, 2), "float32"),
    "batch_normalization": (lambda k: k.layers.BatchNormalization(name="subject"), (3,), "float32"),
    "embedding": (lambda k: k.layers.Embedding(10, 3, name="subject"), (4,), "int32"),
    "multi_head_attention": (lambda k: k.layers.MultiHeadAttention(2, 3, name="subject"),
                             (4, 5), "float32"),
}


def _model(module, case):
    make, shape, dtype = LAYERS[case]
    inputs = module.Input(shape, dtype=dtype)
    layer = make(module)
    outputs = layer(inputs, inputs) if case == "multi_head_attention" else layer(inputs)
    return module.Model(inputs, outputs)


def _pair(case, seed=0):
    """The Keras model and ours, with the same (random, positive) weights."""
    keras.backend.clear_session(free_memory=False)  # names from 0, as keraslike's per test
    ours, theirs = _model(keraslike, case), _model(keras, case)
    rng = np.random.default_rng(seed)
    values = [rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(values)
    ours.set_weights(values)
    return ours, theirs


def _data(case, seed=1):
    _, shape, dtype = LAYERS[case]
    rng = np.random.default_rng(seed)
    if dtype == "int32":
        return torch.tensor(rng.integers(0, 10, size=(2,) + shape), dtype=torch.int32)
    return torch.tensor(rng.normal(size=(2,) + shape).astype("float32"))


def _listing(weights):
    return [(w.path, w.name, tuple(w.shape), bool(w.trainable)) for w in weights]


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_weight_lists_match_keras(case):
    ours, theirs = _pair(case)
    for attr in ("weights", "trainable_weights", "non_trainable_weights", "variables",
                 "trainable_variables", "non_trainable_variables"):
        # `variables` also hold the RNN cells' seed generator states, in Keras's places.
        mine, oracle = getattr(ours, attr), getattr(theirs, attr)
        assert _listing(mine) == _listing(oracle), attr
        for a, b in zip(mine, oracle):
            if b.name == "seed_generator_state":
                continue  # unseeded: each took its seed from Python's `random` at its own point
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{attr} {b.path}")
            np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=b.path)
    layer, oracle_layer = ours.get_layer("subject"), theirs.get_layer("subject")
    assert _listing(layer.weights) == _listing(oracle_layer.weights)


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_assign_takes_keras_layout_values(case):
    ours, theirs = _pair(case)
    rng = np.random.default_rng(2)
    for a, b in zip(ours.weights, theirs.weights):
        value = rng.uniform(0.5, 1.5, size=tuple(b.shape)).astype(b.numpy().dtype)
        b.assign(value)
        a.assign(value)
        np.testing.assert_array_equal(a.numpy(), value, err_msg=b.path)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = _data(case)
    np.testing.assert_allclose(ours(x).detach().numpy(), theirs(x).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_value_grad_is_the_keras_layout_gradient(case):
    ours, theirs = _pair(case)
    x = _data(case)
    for model in (ours, theirs):
        model.zero_grad()
        (model(x) ** 2).sum().backward()
    mine, oracle = ours.trainable_weights, theirs.trainable_weights
    assert len(mine) == len(oracle) > 0
    # (float32 noise relative to the largest gradient: MHA's key bias has gradient ~0)
    scale = max(float(np.abs(b.value.grad.numpy()).max()) for b in oracle)
    for a, b in zip(mine, oracle):
        expected = b.value.grad.numpy()
        np.testing.assert_allclose(a.value.grad.detach().numpy(), expected, rtol=1e-5,
                                   atol=1e-6 * max(scale, 1.0), err_msg=b.path)
    ours.zero_grad()
    assert all(w.value.grad is None for w in ours.trainable_weights)


def test_square_dense_kernel_is_not_transposed():
    # The silent case: a square kernel has the same shape in both layouts.
    ours = keraslike.layers.Dense(2, use_bias=False)
    ours.build((None, 2))
    ours.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]], "float32")])
    kernel = ours.weights[0]
    np.testing.assert_array_equal(kernel.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    x = torch.tensor([[1.0, 0.0]])
    torch.testing.assert_close(x @ kernel, ours(x))  # `x @ w` computes the layer's output
    torch.testing.assert_close(keraslike.ops.matmul(x, kernel), ours(x))
    np.testing.assert_array_equal(kernel.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_views_keep_the_autograd_link_and_grad_can_be_set():
    layer = keraslike.layers.GRU(2)
    layer.build((None, 3, 2))
    kernel = layer.trainable_weights[0]
    assert tuple(kernel.shape) == (2, 6)
    (keraslike.ops.sum(kernel * torch.arange(12.0).reshape(2, 6))).backward()
    np.testing.assert_array_equal(kernel.value.grad.numpy(), np.arange(12.0).reshape(2, 6))
    kernel.value.grad = None
    assert layer.weight_ih_l0.grad is None
    kernel.value.grad = torch.ones(2, 6)
    torch.testing.assert_close(layer.weight_ih_l0.grad, torch.ones(6, 2))


def test_assign_of_a_reordered_weight_updates_the_object_too():
    layer = keraslike.layers.GRU(2)
    layer.build((None, 3, 2))
    kernel = layer.weights[0]
    value = np.arange(12.0, dtype="float32").reshape(2, 6)
    kernel.assign(value)
    torch.testing.assert_close(kernel.detach(), torch.tensor(value))  # ops on it see the value
    kernel.assign_add(np.ones((2, 6), "float32"))
    np.testing.assert_array_equal(layer.weights[0].numpy(), value + 1)
    with pytest.raises(ValueError, match="shape"):
        kernel.assign(np.zeros((6, 2), "float32"))


def test_lstm_bias_assign_add_and_grad_with_a_nonzero_torch_bias():
    # Keras's LSTM bias is torch's `bias_ih + bias_hh`: an increment or a gradient of it is
    # `bias_ih`'s, without the constant `bias_hh`.
    layer = keraslike.layers.LSTM(2)
    layer.build((None, 3, 2))
    with torch.no_grad():
        layer.bias_hh_l0.fill_(0.5)
    bias = layer.weights[2]
    before = bias.numpy()
    bias.assign_add(np.ones(8, "float32"))
    np.testing.assert_allclose(layer.weights[2].numpy(), before + 1)
    layer(torch.ones(1, 3, 2)).sum().backward()
    torch.testing.assert_close(layer.weights[2].value.grad, layer.bias_ih_l0.grad)


def test_identity_layout_weights_are_the_stored_tensors():
    inputs = keraslike.Input((3,))
    outputs = keraslike.layers.BatchNormalization()(keraslike.layers.Dense(3)(inputs))
    model = keraslike.Model(inputs, outputs)
    bn = model.layers[2]
    assert model.weights[1] is model.layers[1].bias
    assert [w is s for w, s in zip(bn.weights, bn._stored_weights())] == [True] * 4
    assert model.non_trainable_weights[0] is bn.running_mean
    optimizer = torch.optim.SGD(bn.trainable_weights, lr=0.1)  # leaves: torch optimizers take them
    assert optimizer.param_groups[0]["params"][0] is bn.weight


def test_nested_and_frozen_models():
    inner_in = keraslike.Input((3,))
    inner = keraslike.Model(inner_in, keraslike.layers.Dense(2, name="d_in")(inner_in), name="inner")
    inputs = keraslike.Input((3,))
    model = keraslike.Model(inputs, keraslike.layers.Dense(4, name="d_out")(inner(inputs)))
    assert [tuple(w.shape) for w in model.trainable_weights] == [(3, 2), (2,), (2, 4), (4,)]
    inner.trainable = False
    assert [w.path for w in model.trainable_weights] == ["d_out/kernel", "d_out/bias"]
    assert [tuple(w.shape) for w in model.non_trainable_weights] == [(3, 2), (2,)]
    assert not model.non_trainable_weights[0].trainable
    assert model.count_params() == 3 * 2 + 2 + 2 * 4 + 4


def test_views_are_rebuilt_after_to_and_load_state_dict():
    layer = keraslike.layers.Dense(2)
    layer.build((None, 3))
    state = {k: torch.full_like(v, 2.0) for k, v in layer.state_dict().items()}
    layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.weights[0].numpy(), np.full((3, 2), 2.0))
    layer.to(torch.float64)
    assert layer.weights[0].dtype == torch.float64 and layer.weights[0]._stored is layer.weight


def test_numpy_is_a_snapshot_as_in_keras():
    # Keras's `v.numpy()` is a copy: `before = v.numpy(); <train>; v.numpy() - before` works.
    ours, theirs = _pair("dense")
    for model in (ours, theirs):
        kernel, bias = model.weights
        before = [kernel.numpy(), bias.numpy(), np.array(kernel)]
        kernel.assign(np.zeros((4, 3), "float32"))
        bias.assign(np.zeros(3, "float32"))
        assert all(np.abs(b).min() >= 0.5 for b in before)  # (the values `_pair` set)


def test_tensorboard_histograms_take_keras_layouts():
    ours, theirs = _pair("gru")
    named = _named_weights(ours)
    assert [(n, tuple(w.shape)) for n, w in named] == [(w.path, tuple(w.shape)) for w in theirs.weights]
    for (_, a), b in zip(named, theirs.weights):
        np.testing.assert_array_equal(a.detach().numpy(), b.numpy())


def test_in_place_gradient_edits_reach_the_stored_gradient_of_a_permuted_weight():
    layer = keraslike.layers.Conv2D(2, 2)
    layer.build((None, 3, 3, 1))
    layer(torch.ones(1, 3, 3, 1)).sum().backward()
    weights = layer.trainable_weights
    total = torch.nn.utils.clip_grad_norm_([v.value for v in weights], 0.5)
    assert float(total) > 0.5
    norm = torch.linalg.vector_norm(torch.cat([layer.weight.grad.ravel(), layer.bias.grad.ravel()]))
    assert abs(float(norm) - 0.5) < 1e-4


def test_attribute_assign_of_computed_keras_values_reaches_the_stored_weight():
    gru = keraslike.layers.GRU(2)
    gru.build((None, 3, 2))
    gru.kernel.assign(np.ones((2, 6), "float32"))
    np.testing.assert_array_equal(gru.get_weights()[0], np.ones((2, 6)))
    lstm = keraslike.layers.LSTM(2)
    lstm.build((None, 3, 2))
    lstm.bias.assign(np.ones(8, "float32"))
    np.testing.assert_array_equal(lstm.get_weights()[2], np.ones(8))
