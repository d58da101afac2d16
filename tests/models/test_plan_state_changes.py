"""The execution plan never caches a decision on state that can change after `Model(...)`:
`add_loss` in `call`, activity regularizers, hooks, `trainable`. Losses added during a call are
that call's losses only (Keras 3 is the oracle)."""

import numpy as np
import torch

import keraslike as keras
from keraslike import layers, regularizers


def _loss_layer_class(lib):
    class AddsLoss(lib.layers.Layer):
        """Adds `sum(x) * rate` on every call, and `1.0` more only when training."""

        def __init__(self, rate=0.5, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, x, training=None):
            self.add_loss(lib.ops.sum(x) * self.rate)
            if training:
                self.add_loss(lib.ops.sum(x) * 0 + 1.0)
            return x

    return AddsLoss


def _losses_per_call(lib, convert):
    AddsLoss = _loss_layer_class(lib)
    inputs = lib.Input((2,))
    x = lib.layers.Dense(2, kernel_initializer="ones", name="d")(inputs)
    model = lib.Model(inputs, AddsLoss(name="adds")(x))
    data = convert(np.ones((1, 2), "float32"))
    seen = []
    for training in (None, True, True, False):
        model(data) if training is None else model(data, training=training)
        seen.append(sorted(round(float(v.detach()), 4) for v in model.losses))
    return seen


def test_added_losses_are_those_of_the_last_call(keras_oracle):
    ours = _losses_per_call(keras, torch.as_tensor)
    assert ours == [[2.0], [1.0, 2.0], [1.0, 2.0], [2.0]]
    assert ours == _losses_per_call(keras_oracle, lambda a: a)


def test_collected_losses_is_the_forward_list_for_the_trainer():
    AddsLoss = _loss_layer_class(keras)
    inputs = keras.Input((2,))
    inner = keras.Model(inputs, AddsLoss()(inputs))
    outer_in = keras.Input((2,))
    model = keras.Model(outer_in, inner(outer_in))
    data = torch.ones(3, 2)
    for _ in range(3):
        model(data, training=True)
        values = sorted(float(v) for v in model._collected_losses())
        assert values == [1.0, 3.0]  # never accumulates across steps
    model(data)
    assert [float(v) for v in model._collected_losses()] == [3.0]
    assert [float(v) for v in inner.losses] == [3.0]


def _activity_after_build(lib, convert):
    inputs = lib.Input((3,))
    dense = lib.layers.Dense(2, kernel_initializer="ones", name="d")
    model = lib.Model(inputs, dense(inputs))
    data = convert(np.arange(6, dtype="float32").reshape(2, 3))
    model(data)
    before = [float(v) for v in model.losses]
    dense.activity_regularizer = lib.regularizers.L2(0.1)
    model(data)
    after = [round(float(v), 4) for v in model.losses]
    dense.activity_regularizer = None
    model(data)
    removed = [float(v) for v in model.losses]
    return before, after, removed


def test_activity_regularizer_set_after_model_is_used(keras_oracle):
    ours = _activity_after_build(keras, torch.as_tensor)
    assert ours == ([], [15.3], [])  # 0.1 * (3^2*2 + 12^2*2) / batch 2
    assert ours == _activity_after_build(keras_oracle, lambda a: a)


def test_hook_registered_after_build_sees_the_call():
    inputs = keras.Input((3,))
    dense = layers.Dense(2)
    model = keras.Model(inputs, dense(inputs))
    data = torch.ones(1, 3)
    model(data)
    seen = []
    handle = dense.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model(data)
    assert seen == [torch.Size([1, 2])]
    handle.remove()
    model(data)
    assert len(seen) == 1


def test_trainable_changed_after_build_freezes_and_stops_batchnorm_updates():
    inputs = keras.Input((4,))
    bn = layers.BatchNormalization()
    dense = layers.Dense(1)
    model = keras.Model(inputs, dense(bn(inputs)))
    data = torch.randn(8, 4) * 3 + 1
    model(data, training=True).sum().backward()
    assert dense.weight.grad is not None
    dense.trainable = False
    bn.trainable = False
    dense.weight.grad = None
    moving = bn.running_mean.clone()
    out = model(data, training=True)
    assert torch.equal(bn.running_mean, moving)  # frozen BatchNorm runs in inference mode
    assert not out.requires_grad or dense.weight.grad is None
    assert model.trainable_weights == []


def test_added_losses_compile_without_graph_breaks():
    AddsLoss = _loss_layer_class(keras)
    inputs = keras.Input((2,))
    x = layers.Dense(2, activity_regularizer=regularizers.L1(0.01))(inputs)
    model = keras.Model(inputs, AddsLoss()(x))
    data = torch.randn(4, 2)
    model(data, training=True)
    expected = sorted(float(v) for v in model.losses)
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(data, training=True)
    assert explanation.graph_break_count == 0
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    for _ in range(3):
        compiled(data, training=True)
        got = sorted(float(v) for v in model.losses)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
