"""Optimizer trajectories, state and configs against Keras 3 (the oracle, torch backend)."""

import numpy as np
import pytest
import torch

import keraslike.optimizers as optimizers

SHAPES = [(4, 3), (3,), (2, 3, 2)]
N_STEPS = 5

CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "learning_rate": 0.05}),
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"weight_decay": 0.1, "momentum": 0.5}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"momentum": 0.5, "rho": 0.8}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "clipvalue": 0.1}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "learning_rate": 0.01}),
    ("Adam", {"global_clipnorm": 0.3}),
    ("Adam", {"weight_decay": 0.01, "beta_1": 0.8, "epsilon": 1e-3}),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 2}),
    ("Adam", {"use_ema": True, "ema_momentum": 0.9}),
    ("Adam", {"loss_scale_factor": 128.0}),
    ("Adam", {"gradient_accumulation_steps": 2}),
    ("AdamW", {}),
    ("AdamW", {"amsgrad": True, "weight_decay": 0.1, "learning_rate": 0.01}),
    ("Adagrad", {}),
    ("Adagrad", {"initial_accumulator_value": 0.5, "clipnorm": 1.0, "learning_rate": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("Adamax", {}),
    ("Adamax", {"clipvalue": 0.2, "beta_2": 0.9}),
    ("Nadam", {}),
    ("Nadam", {"weight_decay": 0.05, "learning_rate": 0.01}),
    ("Lion", {}),
    ("Lion", {"beta_1": 0.5, "weight_decay": 0.1}),
    ("Lamb", {}),
    ("Lamb", {"learning_rate": 0.01, "beta_1": 0.8, "weight_decay": 0.05, "clipnorm": 1.0}),
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.1, "l2_shrinkage_regularization_strength": 0.05,
              "beta": 0.2, "learning_rate_power": -0.3, "initial_accumulator_value": 0.5}),
]

SCHEDULE_CASES = [
    ("SGD", {"momentum": 0.9}, "ExponentialDecay", (0.1, 2, 0.5), {"staircase": True}),
    ("Adam", {}, "CosineDecay", (0.0, 3), {"warmup_target": 0.01, "warmup_steps": 2}),
    ("RMSprop", {}, "PiecewiseConstantDecay", ([1, 3], [0.01, 0.005, 0.001]), {}),
    ("AdamW", {}, "InverseTimeDecay", (0.01, 1, 0.5), {}),
    ("Nadam", {}, "PolynomialDecay", (0.01, 3), {"cycle": True}),
    ("Adamax", {}, "CosineDecayRestarts", (0.01, 2), {}),
]


def _case_id(case):
    cls_name, kwargs = case[0], case[1]
    return cls_name + "-" + ("-".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults")


def _data(seed, shapes=SHAPES, steps=N_STEPS):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype("float32") for s in shapes]
    grads = [[rng.standard_normal(s).astype("float32") for s in shapes] for _ in range(steps)]
    return values, grads


def _ours_params(values):
    params = []
    for i, v in enumerate(values):
        p = torch.nn.Parameter(torch.tensor(v))
        p.path = f"v{i}"  # Keras names slots after the variable: `v0_momentum`
        params.append(p)
    return params


def _run_pair(keras, ours_opt, keras_opt, seed=0):
    values, grads = _data(seed)
    params = _ours_params(values)
    kvars = [keras.Variable(v, name=f"v{i}") for i, v in enumerate(values)]
    for step_grads in grads:
        ours_opt.apply_gradients(zip([torch.tensor(g) for g in step_grads], params))
        keras_opt.apply_gradients(zip([torch.tensor(g) for g in step_grads], kvars))
    return values, params, kvars


def _assert_close_trajectory(values, params, kvars):
    for v0, p, kv in zip(values, params, kvars):
        expected = np.asarray(kv.numpy())
        got = p.detach().numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
        # The displacement too, so a small error in a small update cannot hide.
        np.testing.assert_allclose(got - v0, expected - v0, rtol=1e-4, atol=1e-7)


def _assert_same_state(ours_opt, keras_opt):
    ours = ours_opt.get_slot_state()
    theirs = keras_opt.variables
    assert list(ours) == [v.name for v in theirs]
    for (name, tensor), kv in zip(ours.items(), theirs):
        np.testing.assert_allclose(
            tensor.detach().double().numpy(), np.asarray(kv.numpy(), dtype="float64"),
            rtol=1e-5, atol=1e-7, err_msg=name,
        )


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_and_state_match_keras(keras_oracle, case):
    keras = keras_oracle
    cls_name, kwargs = case
    ours_opt = getattr(optimizers, cls_name)(**kwargs)
    keras_opt = getattr(keras.optimizers, cls_name)(**kwargs)
    values, params, kvars = _run_pair(keras, ours_opt, keras_opt)
    _assert_close_trajectory(values, params, kvars)
    _assert_same_state(ours_opt, keras_opt)
    assert int(ours_opt.iterations) == int(keras_opt.iterations)
    assert ours_opt.get_config() == keras_opt.get_config()


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=_case_id)
def test_schedule_as_learning_rate_matches_keras(keras_oracle, case):
    keras = keras_oracle
    cls_name, kwargs, sched_name, args, sched_kwargs = case
    ours_opt = getattr(optimizers, cls_name)(
        learning_rate=getattr(optimizers.schedules, sched_name)(*args, **sched_kwargs), **kwargs)
    keras_opt = getattr(keras.optimizers, cls_name)(
        learning_rate=getattr(keras.optimizers.schedules, sched_name)(*args, **sched_kwargs),
        **kwargs)
    values, params, kvars = _run_pair(keras, ours_opt, keras_opt)
    _assert_close_trajectory(values, params, kvars)
    _assert_same_state(ours_opt, keras_opt)
    assert ours_opt.get_config() == keras_opt.get_config()
    np.testing.assert_allclose(float(ours_opt.learning_rate), float(keras_opt.learning_rate),
                               rtol=1e-6)


def test_exclude_from_weight_decay_matches_keras(keras_oracle):
    keras = keras_oracle
    ours_opt = optimizers.AdamW(weight_decay=0.5, learning_rate=0.1)
    keras_opt = keras.optimizers.AdamW(weight_decay=0.5, learning_rate=0.1)
    ours_opt.exclude_from_weight_decay(var_names=["v1"])
    keras_opt.exclude_from_weight_decay(var_names=["v1"])
    values, params, kvars = _run_pair(keras, ours_opt, keras_opt)
    _assert_close_trajectory(values, params, kvars)


def test_setting_learning_rate_changes_next_step_like_keras(keras_oracle):
    keras = keras_oracle
    values, grads = _data(1)
    params = _ours_params(values)
    kvars = [keras.Variable(v, name=f"v{i}") for i, v in enumerate(values)]
    ours_opt, keras_opt = optimizers.Adam(), keras.optimizers.Adam()
    for step, step_grads in enumerate(grads):
        if step == 2:
            ours_opt.learning_rate = 0.05
            keras_opt.learning_rate = 0.05
        ours_opt.apply([torch.tensor(g) for g in step_grads], params)
        keras_opt.apply([torch.tensor(g) for g in step_grads], kvars)
    _assert_close_trajectory(values, params, kvars)
    assert float(ours_opt.learning_rate) == float(keras_opt.learning_rate)
    assert ours_opt.get_config()["learning_rate"] == keras_opt.get_config()["learning_rate"]


def test_step_from_grad_matches_apply(keras_oracle):
    keras = keras_oracle
    values, grads = _data(2)
    params = _ours_params(values)
    kvars = [keras.Variable(v, name=f"v{i}") for i, v in enumerate(values)]
    ours_opt = optimizers.RMSprop(momentum=0.3)
    keras_opt = keras.optimizers.RMSprop(momentum=0.3)
    ours_opt.build(params)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g)
        ours_opt.step()
        ours_opt.zero_grad()
        assert all(p.grad is None for p in params)
        keras_opt.apply_gradients(zip([torch.tensor(g) for g in step_grads], kvars))
    _assert_close_trajectory(values, params, kvars)
    _assert_same_state(ours_opt, keras_opt)


def test_keras_saved_state_loads_into_ours(keras_oracle):
    """Keras's own layout (`save_own_variables`: keys "0", "1", ...) moves both ways."""
    keras = keras_oracle
    ours_opt, keras_opt = optimizers.Adam(amsgrad=True), keras.optimizers.Adam(amsgrad=True)
    values, params, kvars = _run_pair(keras, ours_opt, keras_opt)
    store = {}
    keras_opt.save_own_variables(store)
    fresh = optimizers.Adam(amsgrad=True)
    fresh.build(params)
    fresh.load_own_variables(store)
    _assert_same_state(fresh, keras_opt)
    assert int(fresh.iterations) == N_STEPS
    back = {}
    fresh.save_own_variables(back)
    assert sorted(back) == sorted(store)


def test_config_round_trips_through_keras(keras_oracle):
    keras = keras_oracle
    schedule = optimizers.schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10)
    ours = optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True, clipvalue=1.0)
    theirs = keras.optimizers.deserialize(optimizers.serialize(ours))
    assert theirs.get_config() == ours.get_config()
    again = optimizers.deserialize(keras.optimizers.serialize(theirs))
    assert type(again) is optimizers.SGD
    assert again.get_config() == ours.get_config()


def test_serialize_matches_keras_public_format(keras_oracle):
    keras = keras_oracle
    ours = optimizers.serialize(optimizers.Adam())
    theirs = keras.optimizers.serialize(keras.optimizers.Adam())
    assert ours["class_name"] == theirs["class_name"] == "Adam"
    assert ours["config"] == theirs["config"]
    # Keras's torch backend writes its private subclass module; we write the public one,
    # which every Keras backend reads.
    assert ours["module"] == "keras.optimizers" and ours["registered_name"] is None


@pytest.mark.parametrize("name", ["sgd", "SGD", "rmsprop", "adam", "Adam", "adamw", "adagrad",
                                  "adadelta", "adamax", "nadam", "lion"])
def test_get_by_name_matches_keras(keras_oracle, name):
    keras = keras_oracle
    assert optimizers.get(name).get_config() == keras.optimizers.get(name).get_config()
