"""Models built by their first batch (Keras's `_symbolic_build`): a Sequential without an Input,
a subclassed Model whose layers build on first call. `fit` / `evaluate` / `predict` build them
from the first batch's shapes before the loop, so the optimizer and the steps see every weight
from the first step on, as in Keras."""

import warnings

import numpy as np
import pytest
import torch

import keraslike as keras


def _data(n=16):
    rng = np.random.default_rng(0)
    return rng.random((n, 5)).astype("float32"), rng.random((n, 2)).astype("float32")


def _sequential():
    return keras.Sequential([keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(3)
        self.out = keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


@pytest.mark.parametrize("make", [_sequential, _Subclassed], ids=["sequential", "subclassed"])
def test_fit_trains_every_weight_from_the_first_step(make):
    x, y = _data()
    model = make()
    model.compile(loss="mse", optimizer="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "does not have any trainable weights"
        model.fit(x[:4], y[:4], batch_size=4, epochs=1, verbose=0)  # one step only
    weights = [w.detach().clone() for w in model.trainable_weights]
    assert len(weights) == 4
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert all(not torch.equal(a, b) for a, b in zip(weights, model.trainable_weights))
    assert len(model.optimizer.variables) > 1  # built with the model's weights


def test_training_equals_that_of_the_model_built_beforehand():
    x, y = _data(8)
    results = []
    for prebuild in (True, False):
        keras.utils.set_random_seed(1)
        model = _sequential()
        if prebuild:
            model.build((None, 5))
        model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.1))
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        results.append((history.history["loss"], [w.detach().numpy() for w in model.trainable_weights]))
    (loss_a, w_a), (loss_b, w_b) = results
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-6)
    for a, b in zip(w_a, w_b):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_generator_batch_used_to_build_is_still_trained_on():
    x, y = _data(8)
    seen = []

    def batches():
        for i in range(2):
            seen.append(i)
            yield x[4 * i : 4 * i + 4], y[4 * i : 4 * i + 4]

    model = _Subclassed()
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(batches(), epochs=1, verbose=0)
    assert seen == [0, 1]
    assert len(history.history["loss"]) == 1
    assert model.optimizer.iterations.item() == 2  # both batches trained, the peeked one too


def test_predict_and_evaluate_build_too():
    x, y = _data()
    model = _sequential()
    assert model.predict(x, verbose=0).shape == (16, 2)
    model = _Subclassed()
    model.compile(loss="mse")
    assert np.isfinite(model.evaluate(x, y, verbose=0))


def test_a_call_that_fails_on_the_data_keeps_its_value_error():
    x, y = _data()
    model = keras.Sequential([keras.layers.Reshape((7,)), keras.layers.Dense(2)])
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError):
        model.fit(x, y, verbose=0)


class _DictInputs(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.other = keras.layers.Dense(1, use_bias=False)

    def call(self, inputs):
        return self.dense(inputs["inputs"]) + self.other(inputs["scale"])


def test_subclassed_model_taking_a_dict_builds_on_its_first_eager_call():
    # keras-io's endpoint layer pattern calls such a model on a dict of arrays; building used to
    # make one KerasTensor of shape ('inputs', 'scale') (the dict's keys) and fail.
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((4, 5)).astype("float32"), "scale": rng.random((4, 1)).astype("float32")}
    model = _DictInputs()
    out = model(data)
    assert tuple(out.shape) == (4, 1)
    kernel, bias = model.dense.get_weights()
    expected = data["inputs"] @ kernel + bias + data["scale"] @ model.other.get_weights()[0]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5)


def test_subclassed_model_builds_from_a_list_of_shapes():
    class Pair(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            a, b = inputs
            return self.dense(a) + b

    model = Pair()
    model.build([(None, 3), (None, 2)])
    assert [w.shape for w in model.get_weights()] == [(3, 2), (2,)]


class _Block(keras.layers.Layer):
    """A custom layer without `build` or `compute_output_shape` holding a sublayer."""

    def __init__(self):
        super().__init__()
        self.inner = keras.layers.Dense(4)

    def call(self, x):
        return self.inner(x)


class _NestedSubclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.block = _Block()
        self.out = keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.block(x))


def test_subclassed_model_with_a_custom_block_builds_real_weights_from_the_first_batch():
    # The block is shape-inferred on meta tensors inside the model's own meta run; its Dense
    # used to get meta weights there ("incompatible tensor type" when the optimizer was built).
    x, y = _data()
    model = _NestedSubclassed()
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert len(model.trainable_weights) == 4
    expected = model.predict(x, verbose=0)
    kernel, bias = model.block.inner.get_weights()
    out_kernel, out_bias = model.out.get_weights()
    np.testing.assert_allclose(expected, (x @ kernel + bias) @ out_kernel + out_bias, rtol=1e-5, atol=1e-6)
