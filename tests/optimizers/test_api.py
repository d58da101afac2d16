"""Optimizer API without the oracle: errors, counting, state, devices, custom optimizers."""

import warnings

import pytest
import torch

import keraslike.optimizers as optimizers
from keraslike.backend.serialization import register_keras_serializable

ALL = [optimizers.SGD, optimizers.RMSprop, optimizers.Adam, optimizers.AdamW,
       optimizers.Adagrad, optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam,
       optimizers.Lion]


def _params(*shapes, dtype=torch.float32):
    return [torch.nn.Parameter(torch.randn(*s, dtype=dtype)) for s in shapes]


def _grads(params):
    return [torch.randn_like(p) for p in params]


# ---------------------------------------------------------------- bad input


def test_negative_learning_rate_is_a_value_error():
    with pytest.raises(ValueError, match="learning_rate.*>= 0.*-0.1"):
        optimizers.Adam(learning_rate=-0.1)
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=">= 0"):
        opt.learning_rate = -1.0


def test_non_numeric_learning_rate_is_a_value_error():
    with pytest.raises(ValueError, match="should be float"):
        optimizers.SGD(learning_rate="fast")


def test_two_clipping_options_are_a_value_error():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue`"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)


def test_unknown_optimizer_name_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'adamm'.*Known built-in optimizers"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(42)


def test_unknown_registered_class_is_a_type_error():
    config = {"module": "my.mod", "class_name": "Mine", "config": {},
              "registered_name": "my_pkg>Mine"}
    with pytest.raises(TypeError, match="Mine"):
        optimizers.deserialize(config)


def test_unrecognized_argument_and_legacy_decay():
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(lr=0.1)
    with pytest.warns(UserWarning, match="decay"):
        optimizers.Adam(decay=0.1)


@pytest.mark.parametrize("kwargs", [{"momentum": 1.5}, {"momentum": -0.1}])
def test_sgd_momentum_range(kwargs):
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(**kwargs)


def test_adamw_needs_weight_decay_and_lion_beta_1_range():
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)


def test_apply_errors():
    opt = optimizers.SGD()
    params = _params((2,))
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply(_grads(params))
    opt.build(params)
    with pytest.raises(ValueError, match="Received a list of 2 gradients"):
        opt.apply(_grads(params) * 2)
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply(_grads(params), _params((2,)))
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply([None], params)
    with pytest.raises(TypeError, match="torch tensors"):
        optimizers.SGD().build([[1.0, 2.0]])


def test_schedule_learning_rate_is_not_settable_to_a_float():
    opt = optimizers.SGD(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


# ---------------------------------------------------------------- counting, lr, get


def test_iterations_count_applied_steps():
    params = _params((3,), (2, 2))
    opt = optimizers.Adam()
    assert int(opt.iterations) == 0
    for _ in range(3):
        opt.apply_gradients(zip(_grads(params), params))
    assert int(opt.iterations) == 3
    assert opt.iterations.dtype == torch.int64


def test_iterations_with_gradient_accumulation_count_updates():
    params = _params((3,))
    opt = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    before = params[0].detach().clone()
    grads = [torch.ones(3), 2 * torch.ones(3), 3 * torch.ones(3)]
    for i, g in enumerate(grads):
        opt.apply([g], params)
        if i < 2:
            torch.testing.assert_close(params[0].detach(), before)  # only accumulating
    torch.testing.assert_close(params[0].detach(), before - 2.0)  # mean gradient is 2
    assert int(opt.iterations) == 1
    assert int(opt._iterations) == 3


def test_learning_rate_get_and_set():
    opt = optimizers.RMSprop()
    assert isinstance(opt.learning_rate, torch.Tensor)
    assert float(opt.learning_rate) == pytest.approx(1e-3)
    opt.learning_rate = 0.25
    assert float(opt.learning_rate) == 0.25
    assert opt.get_config()["learning_rate"] == 0.25
    opt.learning_rate = torch.tensor(0.5)
    assert float(opt.learning_rate) == 0.5
    schedule = optimizers.schedules.PolynomialDecay(0.1, 10)
    opt.learning_rate = schedule
    assert "learning_rate" not in opt.get_slot_state()  # untracked, as Keras does
    assert float(opt.learning_rate) == pytest.approx(0.1)


def test_callable_learning_rate():
    params = _params((2,))
    opt = optimizers.SGD(learning_rate=lambda: 0.5)
    before = params[0].detach().clone()
    opt.apply([torch.ones(2)], params)
    torch.testing.assert_close(params[0].detach(), before - 0.5)


@pytest.mark.parametrize("cls", ALL)
def test_get_accepts_names_classes_configs_and_instances(cls):
    by_name = optimizers.get(cls.__name__.lower())
    assert type(by_name) is cls
    assert type(optimizers.get(cls)) is cls
    assert optimizers.get(by_name) is by_name
    again = optimizers.get(optimizers.serialize(by_name))
    assert type(again) is cls and again.get_config() == by_name.get_config()
    assert optimizers.get(None) is None


def test_default_names_are_unique_per_session():
    assert optimizers.Adam().name == "adam"
    assert optimizers.Adam().name == "adam_1"
    assert optimizers.RMSprop().name == "rm_sprop"  # Keras's snake case of "RMSprop"


# ---------------------------------------------------------------- step() and state


def test_step_skips_none_grads_and_zero_grad_clears():
    params = _params((3,), (2,))
    opt = optimizers.Adam(learning_rate=0.1)
    opt.build(params)
    frozen = params[1].detach().clone()
    params[0].grad = torch.ones(3)
    opt.step()
    torch.testing.assert_close(params[1].detach(), frozen)
    assert not torch.equal(params[0].detach(), torch.zeros(3))
    assert int(opt.iterations) == 1
    opt.zero_grad()
    assert params[0].grad is None
    opt.step()  # no gradient at all: nothing happens
    assert int(opt.iterations) == 1


def test_step_does_not_modify_grads_in_place():
    params = _params((3,))
    opt = optimizers.SGD(clipvalue=0.1, loss_scale_factor=2.0)
    opt.build(params)
    params[0].grad = torch.full((3,), 5.0)
    opt.step()
    torch.testing.assert_close(params[0].grad, torch.full((3,), 5.0))


def test_step_with_closure_returns_loss():
    w = torch.nn.Parameter(torch.tensor([2.0]))
    opt = optimizers.SGD(learning_rate=0.25)
    opt.build([w])

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 4.0
    torch.testing.assert_close(w.detach(), torch.tensor([1.0]))  # 2 - 0.25 * 4


def test_training_a_linear_model_lowers_the_loss():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    opt = optimizers.Adam(learning_rate=0.05)
    opt.build(list(model.parameters()))
    first = None
    for _ in range(30):
        loss = torch.nn.functional.mse_loss(model(x), y)
        first = first if first is not None else float(loss)
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert float(loss) < first


@pytest.mark.parametrize("cls", ALL)
def test_slot_state_round_trip_resumes_identically(cls):
    params_a = _params((3, 2), (4,))
    params_b = [torch.nn.Parameter(p.detach().clone()) for p in params_a]
    grads = [_grads(params_a) for _ in range(5)]
    opt_a = cls(learning_rate=0.01)
    for g in grads[:3]:
        opt_a.apply(g, params_a)
    for pa, pb in zip(params_a, params_b):
        pb.data.copy_(pa.data)
    state = {k: v.clone() for k, v in opt_a.get_slot_state().items()}
    opt_b = cls(learning_rate=0.5)
    opt_b.build(params_b)
    opt_b.set_slot_state(state)
    assert float(opt_b.learning_rate) == pytest.approx(0.01)
    for g in grads[3:]:
        opt_a.apply(g, params_a)
        opt_b.apply(g, params_b)
    for pa, pb in zip(params_a, params_b):
        torch.testing.assert_close(pa.detach(), pb.detach(), rtol=0, atol=0)
    assert int(opt_b.iterations) == 5


def test_set_slot_state_checks_names_and_shapes():
    params = _params((3,))
    opt = optimizers.Adam()
    state = {"iteration": torch.tensor(4), "variable_0_momentum": torch.zeros(3)}
    with pytest.raises(ValueError, match="must be built"):
        opt.set_slot_state(state)
    opt.build(params)
    with pytest.raises(ValueError, match="Missing"):
        opt.set_slot_state(state)
    full = dict(opt.get_slot_state())
    full["variable_0_velocity"] = torch.zeros(4)
    with pytest.raises(ValueError, match="shape"):
        opt.set_slot_state(full)
    opt.set_slot_state(state, strict=False)
    assert int(opt.iterations) == 4


def test_slot_names_follow_layer_paths():
    kernel, bias = _params((2, 3), (3,))
    kernel.path, bias.path = "dense/kernel", "dense/bias"
    opt = optimizers.Adam(amsgrad=True, use_ema=True)
    opt.build([kernel, bias])
    assert list(opt.get_slot_state()) == [
        "iteration", "learning_rate",
        "dense_kernel_average", "dense_bias_average",
        "dense_kernel_momentum", "dense_kernel_velocity",
        "dense_bias_momentum", "dense_bias_velocity",
        "dense_kernel_velocity_hat", "dense_bias_velocity_hat",
    ]
    assert opt.variables[0] is opt.get_slot_state()["iteration"]


def test_state_lives_with_the_variables_and_keeps_their_layout():
    w = torch.nn.Parameter(torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last))
    opt = optimizers.Adam()
    opt.build([w])
    for t in opt.variables:
        assert t.device == w.device
    momentum = opt.get_slot_state()["variable_0_momentum"]
    assert momentum.is_contiguous(memory_format=torch.channels_last)
    assert not momentum.requires_grad


def test_float64_and_mixed_dtypes():
    p64 = _params((3,), dtype=torch.float64)[0]
    p32 = torch.nn.Parameter(p64.detach().float().clone())
    g = torch.randn(3, dtype=torch.float64)
    ref = torch.nn.Parameter(p32.detach().clone())
    opt = optimizers.Adam(learning_rate=0.1)
    opt.apply([g, g.float()], [p64, p32])
    assert opt.get_slot_state()["variable_0_momentum"].dtype == torch.float64
    ref_opt = optimizers.Adam(learning_rate=0.1)
    ref_opt.apply([g.float()], [ref])
    torch.testing.assert_close(p32.detach(), ref.detach())
    torch.testing.assert_close(p64.detach().float(), ref.detach(), rtol=1e-5, atol=1e-6)


def test_apply_in_another_order_then_step_updates_the_right_variables():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))
    opt = optimizers.SGD(learning_rate=1.0)
    opt.apply([torch.ones(3), torch.ones(2)], [b, a])  # not the order it was built with
    a.grad, b.grad = torch.full((2,), 2.0), torch.full((3,), 3.0)
    opt.step()
    torch.testing.assert_close(a.detach(), torch.full((2,), -3.0))
    torch.testing.assert_close(b.detach(), torch.full((3,), -4.0))


def test_state_follows_the_variables_to_a_new_device():
    params = _params((3,), (2,))
    opt = optimizers.Nadam()
    opt.build(params)
    opt._state_device = torch.device("meta")  # as if the model had moved since build()
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    assert opt._state_device == params[0].device
    assert all(t.device == params[0].device for t in opt.variables)


def test_ema_finalize_writes_the_average():
    params = _params((3,))
    opt = optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply([torch.ones(3)], params)
    average = opt.get_slot_state()["variable_0_average"].clone()
    opt.finalize_variable_values(params)
    torch.testing.assert_close(params[0].detach(), average)


def test_constraint_attribute_is_applied_after_the_update():
    w = torch.nn.Parameter(torch.tensor([0.5, -0.5]))
    w.constraint = lambda v: v.clamp(min=0.0)
    opt = optimizers.SGD(learning_rate=1.0)
    opt.apply([torch.tensor([1.0, 1.0])], [w])
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 0.0]))


# ---------------------------------------------------------------- extension points


def test_keras_style_custom_optimizer_with_update_step():
    @register_keras_serializable(package="test_optimizers")
    class SignSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def build(self, variables):
            if self.built:
                return
            super().build(variables)
            self.steps_taken = self.add_optimizer_variables(variables, "count")

        def update_step(self, gradient, variable, learning_rate):
            self.assign_sub(variable, torch.sign(gradient) * learning_rate)
            self.assign_add(self.steps_taken[self._get_variable_index(variable)], 1.0)

    w = torch.nn.Parameter(torch.tensor([1.0, 1.0]))
    opt = SignSGD()
    opt.apply([torch.tensor([3.0, -2.0])], [w])
    torch.testing.assert_close(w.detach(), torch.tensor([0.9, 1.1]))
    assert list(opt.get_slot_state()) == ["iteration", "learning_rate", "variable_0_count"]
    config = optimizers.serialize(opt)
    assert config["registered_name"] == "test_optimizers>SignSGD"
    assert type(optimizers.deserialize(config)) is SignSGD


def test_no_step_reads_the_host(monkeypatch):
    """A step must not call `.item()` / `float()` / `int()` on a tensor (each is a host sync on
    CUDA). On CPU we check this by making those conversions fail during steps."""
    params = _params((3, 2), (4,))
    schedule = optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=3)
    opts = [cls(learning_rate=schedule) for cls in ALL] + [
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=2, global_clipnorm=1.0),
        optimizers.SGD(momentum=0.9, gradient_accumulation_steps=2, clipnorm=1.0),
    ]
    for opt in opts:
        opt.build(params)

    def refuse(*args, **kwargs):
        raise AssertionError("host sync inside an optimizer step")

    with monkeypatch.context() as m:
        for name in ("item", "__float__", "__int__", "__bool__", "tolist", "cpu", "numpy"):
            m.setattr(torch.Tensor, name, refuse)
        for opt in opts:
            for _ in range(3):
                for p in params:
                    p.grad = torch.randn_like(p)
                opt.step()


@pytest.mark.cuda
def test_cuda_step_has_no_host_sync():
    params = [torch.nn.Parameter(torch.randn(64, 32, device="cuda")) for _ in range(3)]
    schedule = optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=3)
    opts = [cls() for cls in ALL] + [cls(learning_rate=schedule) for cls in ALL] + [
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=2, global_clipnorm=1.0),
        optimizers.SGD(momentum=0.9, gradient_accumulation_steps=2, clipnorm=1.0),
        optimizers.RMSprop(clipvalue=0.5, loss_scale_factor=4.0, weight_decay=0.01),
    ]
    for opt in opts:
        opt.build(params)
        for t in opt.variables:
            assert t.device.type == "cuda"
    for p in params:
        p.grad = torch.randn_like(p)
    for opt in opts:
        opt.step()  # warm-up: first calls may allocate
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for opt in opts:
            for _ in range(3):
                opt.step()
            opt.learning_rate = 0.01 if not isinstance(
                opt._learning_rate, optimizers.schedules.LearningRateSchedule) else schedule
    finally:
        torch.cuda.set_sync_debug_mode("default")
