"""keraslike gaps the session-7 ports ran into, in code owned elsewhere (the weight views of
`keraslike/layers/layer_weights.py`): strict xfails with Keras's behaviour as the expectation, so
each starts failing the suite (and is turned into a plain test) the day the gap is closed."""

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


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "guides/intro_to_keras_for_engineers: a SeedGenerator held by a layer is not in "
    "layer.variables / non_trainable_variables (Keras lists its state there, not in weights)"))
def test_seed_generator_state_is_a_layer_variable():
    layer = _dropout_layer(keraslike)
    assert [v.name for v in layer.variables] == ["seed_generator_state"]


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


@pytest.mark.xfail(strict=True, raises=RuntimeError, reason=(
    "keras_recipes/debugging_tips: torch.autograd.grad(loss, [v.value for v in "
    "model.trainable_variables]) fails for a Dense kernel, whose v.value is a Keras-layout view "
    "not on the forward graph (Keras's v.value is the parameter itself)"))
def test_autograd_grad_with_respect_to_trainable_variables():
    model = keraslike.Sequential([keraslike.Input((3,)), keraslike.layers.Dense(2)])
    loss = model(torch.ones(4, 3)).sum()
    grads = torch.autograd.grad(loss, [v.value for v in model.trainable_variables])
    np.testing.assert_allclose(grads[0].numpy(), np.full((3, 2), 4.0))
