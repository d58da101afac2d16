"""Learning rate schedules against Keras 3: values, configs, serialization."""

import numpy as np
import pytest
import torch

from keraslike.optimizers import schedules

CASES = [
    ("ExponentialDecay", (0.1, 10, 0.9), {}),
    ("ExponentialDecay", (0.1, 4, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([5, 12], [1.0, 0.5, 0.1]), {}),
    ("PolynomialDecay", (0.1, 10), {}),
    ("PolynomialDecay", (0.1, 7), {"end_learning_rate": 0.01, "power": 0.5, "cycle": True}),
    ("InverseTimeDecay", (0.1, 3, 0.5), {}),
    ("InverseTimeDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 10), {}),
    ("CosineDecay", (0.1, 10), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 10), {"warmup_target": 0.2, "warmup_steps": 5}),
    ("CosineDecayRestarts", (0.1, 4), {}),
    ("CosineDecayRestarts", (0.1, 4), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.05}),
]


def _case_id(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[2].items())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_values_config_and_serialization_match_keras(keras_oracle, case):
    keras = keras_oracle
    name, args, kwargs = case
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    steps = list(range(0, 40, 3))
    expected = [float(theirs(torch.tensor(s))) for s in steps]
    from_int = [float(ours(s)) for s in steps]
    from_tensor = ours(torch.tensor(steps))  # a batch of steps: the ops are elementwise
    np.testing.assert_allclose(from_int, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(from_tensor.numpy(), expected, rtol=1e-6, atol=1e-9)
    assert ours.get_config() == theirs.get_config()
    assert schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)
    back = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()


def test_tensor_step_keeps_device_and_returns_0d_float():
    lr = schedules.ExponentialDecay(0.1, 10, 0.9)(torch.tensor(3, dtype=torch.int64))
    assert lr.shape == () and lr.dtype == torch.float32 and lr.device.type == "cpu"


@pytest.mark.parametrize("cls", [schedules.ExponentialDecay, schedules.PolynomialDecay,
                                 schedules.InverseTimeDecay, schedules.CosineDecay])
def test_decay_steps_must_be_positive(cls):
    args = (0.1, 0) if cls in (schedules.PolynomialDecay, schedules.CosineDecay) else (0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        cls(*args)


def test_piecewise_lengths_must_agree():
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])


def test_unknown_schedule_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="NoSuchDecay"):
        schedules.deserialize({"class_name": "NoSuchDecay", "config": {}})


def test_custom_schedule_round_trips_with_custom_objects():
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / (step + 1)

        def get_config(self):
            return {"rate": self.rate}

    config = schedules.serialize(Halving(0.5))
    assert config["class_name"] == "Halving"
    back = schedules.deserialize(config, custom_objects={"Halving": Halving})
    assert back.rate == 0.5
