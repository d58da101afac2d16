"""LossScaleOptimizer, MultiOptimizer and OptimizerMap against Keras 3."""

import numpy as np
import pytest
import torch

import keraslike
import keraslike.optimizers as optimizers
from tests.optimizers.test_parity import _assert_close_trajectory, _data, _ours_params


def _without_inner_module(config):
    """Keras writes a wrapped optimizer with its private torch-backend module; we write the
    public one. Both deserialize in both libraries; the rest must be equal."""
    if isinstance(config, dict):
        return {k: _without_inner_module(v) for k, v in config.items()
                if k not in ("module", "registered_name")}
    return config


def _apply_both(keras, ours, theirs, grads_fn=None, seed=0):
    values, grads = _data(seed)
    if grads_fn is not None:
        grads = grads_fn(grads)
    params = _ours_params(values)
    kvars = [keras.Variable(v, name=f"v{i}") for i, v in enumerate(values)]
    for step_grads in grads:
        ours.apply([torch.tensor(g) for g in step_grads], params)
        theirs.apply([torch.tensor(g) for g in step_grads], kvars)
    return values, params, kvars


def _with_non_finite(grads):
    grads[1][0][0, 0] = np.inf
    grads[3][2][1, 1, 0] = np.nan
    return grads


@pytest.mark.parametrize("inner", [("Adam", {}), ("SGD", {"momentum": 0.9})])
def test_loss_scale_optimizer_matches_keras(keras_oracle, inner):
    keras = keras_oracle
    name, kwargs = inner
    ours = optimizers.LossScaleOptimizer(getattr(optimizers, name)(**kwargs), initial_scale=8.0,
                                         dynamic_growth_steps=2)
    theirs = keras.optimizers.LossScaleOptimizer(getattr(keras.optimizers, name)(**kwargs),
                                                 initial_scale=8.0, dynamic_growth_steps=2)
    values, params, kvars = _apply_both(keras, ours, theirs, _with_non_finite)
    _assert_close_trajectory(values, params, kvars)
    ours_state = list(ours.get_slot_state().values())
    assert len(ours_state) == len(theirs.variables)
    for tensor, kv in zip(ours_state, theirs.variables):
        np.testing.assert_allclose(tensor.double().numpy(), np.asarray(kv.numpy(), "float64"),
                                   rtol=1e-6, err_msg=kv.name)
    assert int(ours.iterations) == int(theirs.iterations) == 3  # two skipped steps
    assert float(ours.dynamic_scale) == float(theirs.dynamic_scale)
    assert _without_inner_module(ours.get_config()) == _without_inner_module(theirs.get_config())
    loss = torch.tensor(2.0)
    assert float(ours.scale_loss(loss)) == float(theirs.scale_loss(loss))


def test_loss_scale_optimizer_config_round_trips_both_ways(keras_oracle):
    keras = keras_oracle
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=4.0)
    ours = optimizers.deserialize(keras.optimizers.serialize(theirs))
    assert isinstance(ours, optimizers.LossScaleOptimizer)
    assert isinstance(ours.inner_optimizer, optimizers.SGD)
    back = keras.optimizers.deserialize(optimizers.serialize(ours))
    assert back.get_config() == theirs.get_config() | {"name": back.name}
    assert keraslike.mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer


def test_loss_scale_optimizer_refuses_base_arguments():
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="foo"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), foo=1)


def test_loss_scale_optimizer_step_and_slot_state_round_trip():
    w = torch.nn.Parameter(torch.ones(3))
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.1), initial_scale=4.0)
    opt.build([w])
    opt.scale_loss((w * 2).sum()).backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.9] * 3, rtol=1e-5)
    state = {k: v.clone() for k, v in opt.get_slot_state().items()}
    other = optimizers.LossScaleOptimizer(optimizers.Adam(0.1), initial_scale=4.0)
    other.build([torch.nn.Parameter(torch.ones(3))])
    other.set_slot_state(state)
    assert int(other.iterations) == 1
    assert "inner_optimizer/v0_momentum" not in state  # the tensor has no path: variable_0
    assert "inner_optimizer/variable_0_momentum" in state


def _map(lib):
    return lib.optimizers.OptimizerMap(
        lib.optimizers.SGD(0.1, momentum=0.5), {"v[02]": lib.optimizers.Adam(0.01)})


def test_multi_optimizer_matches_keras(keras_oracle):
    keras = keras_oracle
    ours = optimizers.MultiOptimizer(_map(keraslike))
    theirs = keras.optimizers.MultiOptimizer(_map(keras))
    values, params, kvars = _apply_both(keras, ours, theirs)
    _assert_close_trajectory(values, params, kvars)
    names = [name.split("/")[-1] for name in ours.get_slot_state()]
    assert names == [v.name for v in theirs.variables]
    for tensor, kv in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(tensor.double().numpy(), np.asarray(kv.numpy(), "float64"),
                                   rtol=1e-6, err_msg=kv.name)
    assert int(ours.iterations) == int(theirs.iterations) == 5
    assert _without_inner_module(ours.get_config()) == _without_inner_module(theirs.get_config())
    restored = optimizers.deserialize(keras.optimizers.serialize(theirs))
    assert [type(o).__name__ for o in restored.optimizers] == ["Adam", "SGD"]


def _two_branch(lib):
    inputs = lib.Input(shape=(5,))
    x = lib.layers.Dense(6, activation="relu", name="encoder")(inputs)
    outputs = lib.layers.Dense(2, name="head")(x)
    return lib.Model(inputs, outputs)


def test_multi_optimizer_fit_two_epochs_matches_keras(keras_oracle):
    keras = keras_oracle
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 5)).astype("float32")
    y = rng.standard_normal((40, 2)).astype("float32")
    theirs, ours = _two_branch(keras), _two_branch(keraslike)
    ours.set_weights(theirs.get_weights())
    losses = []
    for lib, model in ((keras, theirs), (keraslike, ours)):
        mapping = lib.optimizers.OptimizerMap(lib.optimizers.SGD(0.05),
                                              {"encoder/.*": lib.optimizers.Adam(0.01)})
        model.compile(optimizer=lib.optimizers.MultiOptimizer(mapping), loss="mse")
        losses.append(model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                                verbose=0).history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    for got, expected in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_optimizer_map_lookup_and_errors():
    adam, sgd = optimizers.Adam(), optimizers.SGD()
    mapping = optimizers.OptimizerMap(optimizers.RMSprop(), {"encoder/.*": sgd})
    mapping["encoder/layer_0/dense"] = adam
    assert mapping["encoder/layer_0/dense"] is adam
    assert mapping["encoder/attention/query"] is sgd
    assert mapping["decoder/dense"] is mapping.default_optimizer
    with pytest.raises(ValueError, match="already exists"):
        mapping["encoder/.*"] = adam
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        mapping["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    mapping["enc.*"] = adam
    with pytest.raises(ValueError, match="Multiple optimizers"):
        mapping["encoder/x"]
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")
    multi = optimizers.MultiOptimizer(lambda v: sgd)
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate


@pytest.mark.parametrize("wrapper", ["LossScaleOptimizer", "MultiOptimizer"])
def test_keras_files_carry_the_wrapped_optimizers_state_both_ways(keras_oracle, tmp_path, wrapper):
    keras = keras_oracle
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 5)).astype("float32")
    y = rng.standard_normal((16, 2)).astype("float32")

    def make(lib):
        if wrapper == "LossScaleOptimizer":
            return lib.optimizers.LossScaleOptimizer(lib.optimizers.Adam(0.01), initial_scale=8.0)
        return lib.optimizers.MultiOptimizer(lib.optimizers.OptimizerMap(
            lib.optimizers.SGD(0.05, momentum=0.5), {"encoder/.*": lib.optimizers.Adam(0.01)}))

    for source, target in ((keras, keraslike), (keraslike, keras)):
        model = _two_branch(source)
        model.compile(optimizer=make(source), loss="mse")
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        path = str(tmp_path / f"{source.__name__}_{wrapper}.keras")
        model.save(path)
        loaded = target.saving.load_model(path)
        assert type(loaded.optimizer).__name__ == wrapper
        loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                                   np.asarray(model.predict(x, verbose=0)), rtol=1e-5,
                                   atol=1e-6)


def test_loss_scale_optimizer_under_mixed_float16_scales_once():
    """`fit` scales float16 losses itself, unless the optimizer is a LossScaleOptimizer (as
    Keras's own wrapping): scaling twice overflowed float16 and skipped every step."""
    keraslike.mixed_precision.set_global_policy("mixed_float16")
    try:
        inputs = keraslike.Input((3,))
        hidden = keraslike.layers.Dense(4)(inputs)
        model = keraslike.Model(inputs, keraslike.layers.Dense(1, dtype="float32")(hidden))
    finally:
        keraslike.mixed_precision.set_global_policy("float32")
    optimizer = optimizers.LossScaleOptimizer(optimizers.SGD(0.01))
    model.compile(optimizer=optimizer, loss="mse")
    # Small inputs: at the initial scale 2**15 no gradient overflows float16 for any initial
    # weights (with ones, some seeds overflow once and rightly skip a step).
    history = model.fit(np.full((8, 3), 0.1, "float32"), np.zeros((8, 1), "float32"), epochs=3,
                        verbose=0)
    assert int(optimizer.iterations) == 3  # no step skipped
    assert float(optimizer.dynamic_scale) == 2.0**15
    assert len(set(history.history["loss"])) == 3
    assert getattr(model, "_loss_scale", None) is None
