"""The keras-io "training loop in torch" pattern on `model.trainable_weights` (Keras-layout views)
trains as Keras 3 does: `optimizer.apply(grads, weights)` / `apply_gradients(zip(...))` with
`grads = [v.value.grad for v in weights]` update the stored weights with converted gradients.
"""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _model(module):
    inputs = module.Input((6, 3))
    x = module.layers.Conv1D(4, 3, padding="same", name="conv")(inputs)
    x = module.layers.LSTM(3, return_sequences=True, name="lstm")(x)
    x = module.layers.GRU(3, name="gru")(x)
    x = module.layers.Dense(3, name="square")(x)  # a (3, 3) kernel: transposed would not crash
    return module.Model(inputs, module.layers.Dense(2, name="dense")(x))


def _pair():
    ours, theirs = _model(keraslike), _model(keras)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.normal(size=(4, 6, 3)).astype("float32"))
    y = torch.tensor(rng.normal(size=(4, 2)).astype("float32"))
    return x, y


def _train(model, optimizer, x, y, steps, use_apply_gradients):
    """Keras's guide loop (writing a training loop from scratch in torch); `use_apply_gradients`
    True: `apply_gradients(zip(...))`, "positional": `apply(grads)` after `build`."""
    if use_apply_gradients == "positional" and not optimizer.built:
        optimizer.build(model.trainable_weights)
    for _ in range(steps):
        loss = optimizer.scale_loss(((model(x) - y) ** 2).mean())
        model.zero_grad()
        trainable_weights = [v for v in model.trainable_weights]
        loss.backward()
        grads = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            if use_apply_gradients == "positional":
                optimizer.apply(grads)
            elif use_apply_gradients:
                optimizer.apply_gradients(zip(grads, trainable_weights))
            else:
                optimizer.apply(grads, trainable_weights)


def _assert_same_weights(ours, theirs, atol=1e-5):
    for a, b in zip(ours.weights, theirs.weights):
        assert (a.path, tuple(a.shape)) == (b.path, tuple(b.shape))
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=atol, err_msg=b.path)


def _assert_same_optimizer_variables(ours, theirs, atol=1e-5):
    mine, oracle = ours.variables, theirs.variables
    assert [(v.path, tuple(v.shape)) for v in mine] == [(v.path, tuple(v.shape)) for v in oracle]
    for a, b in zip(mine, oracle):
        np.testing.assert_allclose(np.asarray(a.detach().cpu()), b.numpy(), atol=atol,
                                   err_msg=b.path)


@pytest.mark.parametrize("use_apply_gradients", [False, True, "positional"])
def test_custom_torch_loop_with_adam_matches_keras(use_apply_gradients):
    ours, theirs = _pair()
    x, y = _data()
    ours_opt = keraslike.optimizers.Adam(0.05, name="opt")
    theirs_opt = keras.optimizers.Adam(0.05, name="opt")
    _train(ours, ours_opt, x, y, 3, use_apply_gradients)
    _train(theirs, theirs_opt, x, y, 3, use_apply_gradients)
    _assert_same_weights(ours, theirs)
    _assert_same_optimizer_variables(ours_opt, theirs_opt)
    # The slots belong to the stored weights: one per stored tensor, torch-layout shaped.
    stored = ours._stored_trainable_weights()
    assert ours_opt._trainable_variables == stored
    assert [tuple(m.shape) for m in ours_opt._momentums] == [tuple(w.shape) for w in stored]


def test_wrapper_optimizers_take_the_views_and_show_keras_layout_slots():
    ours, theirs = _pair()
    x, y = _data()
    ours_opt = keraslike.optimizers.LossScaleOptimizer(keraslike.optimizers.Adam(0.05, name="opt"))
    theirs_opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.05, name="opt"))
    _train(ours, ours_opt, x, y, 2, False)
    _train(theirs, theirs_opt, x, y, 2, False)
    _assert_same_weights(ours, theirs)
    inner, oracle = ours_opt.inner_optimizer.variables, theirs_opt.inner_optimizer.variables
    assert [tuple(v.shape) for v in inner] == [tuple(v.shape) for v in oracle]


def test_fit_after_a_manual_loop_continues_the_same_optimizer_state():
    ours, theirs = _pair()
    x, y = _data()
    for model, module in ((ours, keraslike), (theirs, keras)):
        optimizer = module.optimizers.Adam(0.05, name="opt")
        _train(model, optimizer, x, y, 2, False)
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(x.numpy(), y.numpy(), batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 4
    _assert_same_weights(ours, theirs, atol=1e-4)
    _assert_same_optimizer_variables(ours.optimizer, theirs.optimizer, atol=1e-4)


def test_manual_loop_after_fit_uses_the_slots_fit_built():
    ours, theirs = _pair()
    x, y = _data()
    for model, module in ((ours, keraslike), (theirs, keras)):
        model.compile(optimizer=module.optimizers.Adam(0.05, name="opt"), loss="mse")
        model.fit(x.numpy(), y.numpy(), batch_size=4, epochs=1, shuffle=False, verbose=0)
        _train(model, model.optimizer, x, y, 2, False)
    _assert_same_weights(ours, theirs, atol=1e-4)
    # `fit` built the optimizer: its slots are shown in Keras's layouts too
    _assert_same_optimizer_variables(ours.optimizer, theirs.optimizer, atol=1e-4)


def test_optimizer_set_weights_takes_keras_layout_slots():
    ours, theirs = _pair()
    x, y = _data()
    ours_opt, theirs_opt = keraslike.optimizers.Adam(0.05, name="opt"), keras.optimizers.Adam(0.05, name="opt")
    _train(theirs, theirs_opt, x, y, 2, False)
    _train(ours, ours_opt, x, y, 1, False)
    ours.set_weights(theirs.get_weights())
    ours_opt.set_weights([v.numpy() for v in theirs_opt.variables])
    _assert_same_optimizer_variables(ours_opt, theirs_opt, atol=0)
    _train(theirs, theirs_opt, x, y, 1, False)
    _train(ours, ours_opt, x, y, 1, False)
    _assert_same_weights(ours, theirs)
    kernel_momentum = next(v for v in ours_opt.variables if v.path.endswith("dense_kernel_momentum"))
    kernel_momentum.assign(np.ones((3, 2), "float32"))  # writes through to the stored slot
    stored = ours_opt.get_slot_state()["dense_kernel_momentum"]
    torch.testing.assert_close(stored, torch.ones(2, 3))


def test_optimizer_built_on_parameters_keeps_torch_layouts():
    model = _model(keraslike)
    optimizer = keraslike.optimizers.Adam()
    optimizer.build(list(model.parameters()))
    slots = optimizer.variables[2:]
    assert tuple(slots[0].shape) == (4, 3, 3)  # Conv1D kernel momentum, torch's (out, in, k)
    assert all(type(v) is torch.Tensor for v in slots)  # no layout views of torch-built slots


def test_build_on_trainable_weights_makes_stored_layout_slots():
    model = _model(keraslike)
    optimizer = keraslike.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build(model.trainable_weights)
    stored = model._stored_trainable_weights()
    assert [tuple(m.shape) for m in optimizer.momentums] == [tuple(w.shape) for w in stored]
    names = [v.path for v in model.trainable_weights]
    assert optimizer._reference_names[: 2] == [n.replace("/", "_") for n in names[:2]]
    dense_kernel = model.trainable_weights[-2]
    before = dense_kernel.numpy()
    grad = np.arange(before.size, dtype="float32").reshape(before.shape)  # (3, 2): Keras layout
    optimizer.apply([torch.tensor(grad)], [dense_kernel])
    np.testing.assert_allclose(model.trainable_weights[-2].numpy(), before - 0.1 * grad, rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        optimizer.apply([torch.tensor(grad.T.copy())], [dense_kernel])


def _custom_optimizer(module):
    class HeavyBall(module.optimizers.Optimizer):
        """A user's optimizer in Keras's API: a slot per variable from `build(var_list)`."""

        def __init__(self, learning_rate=0.05, **kwargs):
            super().__init__(learning_rate=learning_rate, name="heavy_ball", **kwargs)

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self.velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]

        def update_step(self, gradient, variable, learning_rate):
            velocity = self.velocities[self._get_variable_index(variable)]
            ops = module.ops
            self.assign(velocity, ops.add(ops.multiply(velocity, 0.9), gradient))
            self.assign_sub(variable, ops.multiply(learning_rate, velocity))

    return HeavyBall()


def test_a_custom_optimizer_subclass_gets_the_stored_weights_in_build():
    ours, theirs = _pair()
    x, y = _data()
    ours_opt, theirs_opt = _custom_optimizer(keraslike), _custom_optimizer(keras)
    _train(ours, ours_opt, x, y, 3, False)
    _train(theirs, theirs_opt, x, y, 3, False)
    _assert_same_weights(ours, theirs)
    stored = ours._stored_trainable_weights()
    assert [tuple(v.shape) for v in ours_opt.velocities] == [tuple(w.shape) for w in stored]
    _assert_same_optimizer_variables(ours_opt, theirs_opt)


@pytest.mark.parametrize("mode", [False, "positional"])
def test_multi_optimizer_in_the_torch_loop_matches_keras(mode):
    ours, theirs = _pair()
    x, y = _data()
    optimizers = []
    for module in (keraslike, keras):
        mapping = module.optimizers.OptimizerMap(
            module.optimizers.SGD(0.05, momentum=0.5), {"kernel": module.optimizers.Adam(0.05)})
        optimizers.append(module.optimizers.MultiOptimizer(mapping))
    _train(ours, optimizers[0], x, y, 3, mode)
    _train(theirs, optimizers[1], x, y, 3, mode)
    _assert_same_weights(ours, theirs)
    shapes = [tuple(v.shape) for v in optimizers[0].variables]
    assert shapes == [tuple(v.shape) for v in optimizers[1].variables]


@pytest.mark.cuda
def test_custom_torch_loop_on_cuda_matches_cpu():
    cpu, _ = _pair()
    gpu = _model(keraslike)
    gpu.set_weights(cpu.get_weights())
    gpu.to("cuda")
    x, y = _data()
    _train(cpu, keraslike.optimizers.Adam(0.05), x, y, 2, False)
    _train(gpu, keraslike.optimizers.Adam(0.05), x.cuda(), y.cuda(), 2, "positional")
    for a, b in zip(gpu.weights, cpu.weights):
        assert a.device.type == "cuda" and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4, err_msg=b.path)
    kernel = gpu.trainable_weights[0]
    kernel.assign(np.zeros(tuple(kernel.shape), "float32"))
    assert float(gpu.get_layer("conv").weight.abs().sum()) == 0.0


def test_exclude_from_weight_decay_takes_the_views():
    model = _model(keraslike)
    optimizer = keraslike.optimizers.AdamW(weight_decay=0.5)
    kernels = [v for v in model.trainable_weights if v.name == "kernel"]
    optimizer.exclude_from_weight_decay(var_list=kernels)
    stored = {id(w) for w in model._stored_trainable_weights()}
    assert optimizer._exclude_ids <= stored and len(optimizer._exclude_ids) == len(kernels)
