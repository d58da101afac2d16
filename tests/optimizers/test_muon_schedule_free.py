"""Muon and ScheduleFreeAdamW against Keras 3: trajectories, state, configs, two epochs of `fit`."""

import numpy as np
import pytest
import torch

import keraslike
import keraslike.optimizers as optimizers
from tests.optimizers.test_parity import (
    _assert_close_trajectory,
    _assert_same_state,
    _data,
    _ours_params,
    _run_pair,
)

MUON_CASES = [
    {},
    {"nesterov": False, "rms_rate": None, "weight_decay": 0.1, "learning_rate": 0.01},
    {"exclude_layers": ["v0"], "adam_lr_ratio": 0.5, "adam_weight_decay": None},
    {"momentum": 0.9, "ns_steps": 3, "clipnorm": 0.5, "weight_decay": None},
]


@pytest.mark.parametrize("kwargs", MUON_CASES, ids=[str(sorted(k)) for k in MUON_CASES])
def test_muon_matches_keras(keras_oracle, kwargs):
    ours = optimizers.Muon(**kwargs)
    theirs = keras_oracle.optimizers.Muon(**kwargs)
    values, params, kvars = _run_pair(keras_oracle, ours, theirs)
    _assert_close_trajectory(values, params, kvars)
    _assert_same_state(ours, theirs)
    assert ours.get_config() == theirs.get_config()


def test_muon_orthogonalizes_2d_updates():
    """One Muon step of a square matrix from zero momentum moves it by about lr * rms_rate *
    sqrt(n) times an (approximately) orthogonal matrix, whatever the gradient's scale."""
    w = torch.nn.Parameter(torch.zeros(8, 8))
    w.path = "dense/kernel"
    opt = optimizers.Muon(learning_rate=1.0, rms_rate=None, weight_decay=None, nesterov=False)
    opt.apply([torch.randn(8, 8, generator=torch.Generator().manual_seed(0)) * 1e3], [w])
    singular_values = torch.linalg.svdvals(-w.detach())
    assert singular_values.min() > 0.5 and singular_values.max() < 1.3
    assert len(opt.variables) == 3  # iteration, learning_rate, momentum: no Adam velocity


def _muon_model(lib):
    inputs = lib.Input(shape=(4,), dtype="int32")
    x = lib.layers.Embedding(10, 6, name="embedding")(inputs)
    x = lib.layers.Flatten()(x)
    x = lib.layers.Dense(8, activation="tanh", name="hidden")(x)
    outputs = lib.layers.Dense(3, name="head")(x)
    return lib.Model(inputs, outputs)


def test_muon_fit_two_epochs_matches_keras(keras_oracle):
    """Dense kernels are stored transposed in keraslike: Muon's step must not care (the
    Newton-Schulz iteration commutes with transposition); the embedding and the excluded head
    take AdamW steps, the hidden kernel Muon steps."""
    keras = keras_oracle
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (48, 4)).astype("int32")
    y = rng.standard_normal((48, 3)).astype("float32")
    theirs, ours = _muon_model(keras), _muon_model(keraslike)
    ours.set_weights(theirs.get_weights())
    losses = []
    for lib, model in ((keras, theirs), (keraslike, ours)):
        model.compile(optimizer=lib.optimizers.Muon(learning_rate=0.02, exclude_layers=["head"]),
                      loss="mse")
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    for got, expected in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def _schedule_free_reference(keras, kwargs, values, grads):
    """Keras's ScheduleFreeAdamW through `stateless_apply`: there its `momentum_old` really is
    the old value (on the torch backend its stateful path reads it after the in-place update)."""
    optimizer = keras.optimizers.ScheduleFreeAdamW(**kwargs)
    kvars = [keras.Variable(v, name=f"v{i}") for i, v in enumerate(values)]
    optimizer.build(kvars)
    trainable = [v.value.detach().clone() for v in kvars]
    state = [v.value.detach().clone() for v in optimizer.variables]
    for step_grads in grads:
        trainable, state = optimizer.stateless_apply(
            state, [torch.tensor(g) for g in step_grads], trainable)
        trainable = [t.detach().clone() for t in trainable]
        state = [t.detach().clone() for t in state]
    return optimizer, trainable, state


SCHEDULE_FREE_CASES = [
    {},
    {"warmup_steps": 3, "weight_decay": 0.1, "beta_1": 0.8},
    {"learning_rate": 0.01, "epsilon": 1e-3, "clipvalue": 0.5, "beta_2": 0.9},
]


@pytest.mark.parametrize("kwargs", SCHEDULE_FREE_CASES,
                         ids=[str(sorted(k)) for k in SCHEDULE_FREE_CASES])
def test_schedule_free_adamw_matches_keras(keras_oracle, kwargs):
    values, grads = _data(0)
    params = _ours_params(values)
    ours = optimizers.ScheduleFreeAdamW(**kwargs)
    for step_grads in grads:
        ours.apply_gradients(zip([torch.tensor(g) for g in step_grads], params))
    theirs, trainable, state = _schedule_free_reference(keras_oracle, kwargs, values, grads)
    for v0, p, expected in zip(values, params, trainable):
        got = p.detach().numpy()
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got - v0, expected.numpy() - v0, rtol=1e-4, atol=1e-6)
    names = [v.name for v in theirs.variables]
    assert list(ours.get_slot_state()) == names
    for (name, tensor), expected in zip(ours.get_slot_state().items(), state):
        np.testing.assert_allclose(tensor.double().numpy(), expected.double().numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)
    assert ours.get_config() == theirs.get_config()


def test_schedule_free_momentum_starts_as_the_variable():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = optimizers.ScheduleFreeAdamW()
    opt.build([w])
    np.testing.assert_array_equal(opt._momentums[0].numpy(), [1.0, -2.0])
    opt.apply([torch.zeros(2)], [w])  # a zero gradient leaves y = z = x
    np.testing.assert_allclose(w.detach().numpy(), [1.0, -2.0], rtol=1e-6)


@pytest.mark.parametrize("name", ["muon", "schedulefreeadamw", "Muon", "ScheduleFreeAdamW"])
def test_get_by_name(name):
    assert optimizers.get(name).__class__.__name__.lower() == name.lower()
