"""Models with non-trainable weights (BatchNormalization statistics, a user layer's state)
compile with AOT autograd (`torch.compile`'s default path) and keep Keras's Variable API."""

import copy

import numpy as np
import pytest
import torch

import keraslike as keras


class Counter(keras.layers.Layer):
    """A user layer with a non-trainable weight assigned to an attribute (Keras's idiom)."""

    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, x):
        self.count.assign_add(1.0)
        return x * 2.0


def _model():
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


@pytest.mark.slow
@pytest.mark.parametrize("training", [False, True])
def test_aot_compiled_model_with_batch_norm_equals_eager(training):
    torch.manual_seed(0)
    eager = _model()
    compiled_model = copy.deepcopy(eager)
    eager.train(training)
    compiled_model.train(training)
    compiled = torch.compile(compiled_model, fullgraph=True, backend="aot_eager")
    x = torch.randn(5, 6, 6, 3)
    for _ in range(2):
        y_eager, y_compiled = eager(x), compiled(x)
        y_eager.square().sum().backward()
        y_compiled.square().sum().backward()
    torch.testing.assert_close(y_compiled, y_eager)
    for a, b in zip(compiled_model.parameters(), eager.parameters()):
        torch.testing.assert_close(a.grad, b.grad)
    for a, b in zip(compiled_model.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)  # moving statistics included


def test_non_trainable_weights_stay_buffers_with_the_variable_api():
    model = _model()
    bn = model.layers[2]
    mean = bn.moving_mean
    assert any(b is mean for b in bn.buffers()) and not any(p is mean for p in bn.parameters())
    assert not mean.requires_grad
    assert mean.path == f"{bn.name}/moving_mean" and not mean.trainable
    mean.assign(np.full(4, 3.0, "float32"))
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.full(4, 3.0))
    assert all(p.requires_grad for p in model.parameters())
    doubled = model.to(torch.float64).layers[2].moving_mean
    assert doubled.dtype == torch.float64 and doubled.path == mean.path
    clone = copy.deepcopy(model).layers[2].moving_mean
    assert clone.path == mean.path and clone.data_ptr() != doubled.data_ptr()


def test_user_layer_state_assigned_to_an_attribute_stays_a_buffer():
    layer = Counter()
    layer(torch.ones(2))
    layer(torch.ones(2))
    assert "count" in dict(layer.named_buffers()) and not list(layer.parameters())
    assert float(layer.count.numpy()) == 2.0
    assert layer.non_trainable_weights[0] is layer.count
