"""Adafactor against Keras 3: trajectories, state (positionally: Keras gives the factored row and
column statistics the same name, ours are made unique with a `_1` suffix) and config."""

import numpy as np
import pytest

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
