"""Gaps the session-7 ports ran into (the weight views of `keraslike/layers/layer_weights.py`),
kept as tests with Keras's behaviour as the expectation now that they are closed: a layer's
`SeedGenerator` state is one of its `variables`, and `torch.autograd.grad` with respect to
`v.value` of a Keras-layout weight view works. Fuller oracle tests:
`tests/layers/test_seed_generator_variables.py`, `tests/layers/test_keras_layout_autograd.py`."""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _dropout_layer(lib):
    class MyDropout(lib.layers.Layer):
        def __init__(self, rate, name=None):
            super().__init__(name=name)
            self.rate = rate
            self.seed_generator = lib.random.SeedGenerator(1337)

        def call(self, inputs):
            return lib.random.dropout(inputs, self.rate, seed=self.seed_generator)

    return MyDropout(0.5)


def test_keras_tracks_a_seed_generator_state_as_a_layer_variable():
    layer = _dropout_layer(keras)
    assert [v.name for v in layer.variables] == ["seed_generator_state"]
    assert layer.weights == [] and len(layer.non_trainable_variables) == 1


def test_seed_generator_state_is_a_layer_variable():
    # guides/intro_to_keras_for_engineers: Keras lists the state in variables, not in weights.
    layer = _dropout_layer(keraslike)
    assert [v.name for v in layer.variables] == ["seed_generator_state"]
    assert layer.weights == [] and len(layer.non_trainable_variables) == 1


def _interleaved(lib):
    class Blocks(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.encoders, self.projectors = [], []
            for units in (3, 2):
                self.encoders.append(lib.layers.Dense(units))
                self.projectors.append(lib.layers.Dense(4))

        def call(self, x):
            return sum(p(e(x)) for e, p in zip(self.encoders, self.projectors))

    layer = Blocks()
    layer(np.zeros((1, 5), "float32"))
    return [tuple(w.shape) for w in layer.weights]


def test_weight_order_follows_the_order_sublayers_were_tracked():
    # keras_recipes/memory_efficient_embeddings: sublayers appended to two lists in turn list
    # their weights in the order they were appended (Keras's get_weights / set_weights order).
    expected = _interleaved(keras)
    assert expected == [(5, 3), (3,), (3, 4), (4,), (5, 2), (2,), (2, 4), (4,)]
    assert _interleaved(keraslike) == expected


def test_autograd_grad_with_respect_to_trainable_variables():
    # keras_recipes/debugging_tips: a Dense kernel's v.value is a Keras-layout view, not the
    # tensor the forward used; the gradient is taken through its stored weight.
    model = keraslike.Sequential([keraslike.Input((3,)), keraslike.layers.Dense(2)])
    loss = model(torch.ones(4, 3)).sum()
    grads = torch.autograd.grad(loss, [v.value for v in model.trainable_variables])
    np.testing.assert_allclose(grads[0].numpy(), np.full((3, 2), 4.0))
