"""Adafactor against Keras 3: trajectories, state (positionally: Keras gives the factored row and
column statistics the same name, ours are made unique with a `_1` suffix) and config."""

import numpy as np
import pytest

import keraslike
import keraslike.optimizers as optimizers
from tests.optimizers.test_parity import _assert_close_trajectory, _run_pair

CASES = [
    {},
    {"learning_rate": 0.01, "relative_step": False, "clip_threshold": 0.5, "epsilon_2": 1e-2},
    {"beta_2_decay": -0.5, "clipnorm": 1.0, "weight_decay": 0.01},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(sorted(k)) for k in CASES])
def test_adafactor_matches_keras(keras_oracle, kwargs):
    ours = optimizers.Adafactor(**kwargs)
    theirs = keras_oracle.optimizers.Adafactor(**kwargs)
    values, params, kvars = _run_pair(keras_oracle, ours, theirs)
    _assert_close_trajectory(values, params, kvars)
    state = list(ours.get_slot_state().items())
    assert len(state) == len(theirs.variables)
    for (name, tensor), variable in zip(state, theirs.variables):
        assert name.split("_1")[0] == variable.name.split("_1")[0]
        np.testing.assert_allclose(tensor.detach().double().numpy(),
                                   np.asarray(variable.numpy(), dtype="float64"), rtol=1e-5,
                                   atol=1e-7, err_msg=name)
    assert ours.get_config() == theirs.get_config()


def test_adafactor_with_schedule(keras_oracle):
    ours = optimizers.Adafactor(optimizers.schedules.ExponentialDecay(0.01, 2, 0.5))
    theirs = keras_oracle.optimizers.Adafactor(
        keras_oracle.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5))
    _assert_close_trajectory(*_run_pair(keras_oracle, ours, theirs))


def _conv_model(module):
    inputs = module.Input((4, 4, 2))
    x = module.layers.Conv2D(3, 2, name="conv")(inputs)
    x = module.layers.Flatten()(x)
    return module.Model(inputs, module.layers.Dense(2, name="dense")(x))


def test_adafactor_factors_conv_kernels_over_keras_axes(keras_oracle):
    # Keras averages a (kh, kw, in, out) kernel's squared gradients over `out` and `in`; over the
    # stored (out, in, kh, kw) layout's last two axes the steps differed (by ~3e-2 after 4).
    ours, theirs = _conv_model(keraslike), _conv_model(keras_oracle)
    ours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 4, 4, 2)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    for module, model in ((keraslike, ours), (keras_oracle, theirs)):
        model.compile(optimizer=module.optimizers.Adafactor(0.05), loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    mine, oracle = ours.optimizer.variables, theirs.optimizer.variables
    assert [tuple(v.shape) for v in mine] == [tuple(v.shape) for v in oracle]
    for a, b in zip(mine, oracle):
        np.testing.assert_allclose(np.asarray(a.detach()), b.numpy(), rtol=1e-5, atol=1e-7)
