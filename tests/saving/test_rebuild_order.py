"""Rebuilding a functional model from its config is linear in the nodes, whatever the layer order."""

import random

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike.models import functional_config


def _chain(n):
    inputs = keras.Input((4,))
    x = inputs
    for _ in range(n):
        x = keras.layers.Dense(4)(x)
    skip = keras.layers.Add()([x, inputs])
    return keras.Model(inputs, skip)


def _rebuild_counting(config, monkeypatch):
    calls = []
    real = functional_config._call_node

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(functional_config, "_call_node", counting)
    model = keras.Model.from_config(config)
    monkeypatch.setattr(functional_config, "_call_node", real)
    return model, len(calls)


def test_reversed_and_shuffled_configs_rebuild_in_linear_node_attempts(monkeypatch):
    n = 300
    model = _chain(n)
    x = torch.randn(2, 4)
    expected = model(x).detach().numpy()
    for reorder in ("reversed", "shuffled"):
        config = model.get_config()
        layers = config["layers"]
        if reorder == "reversed":
            config["layers"] = layers[::-1]
        else:
            random.Random(0).shuffle(layers)
        rebuilt, attempts = _rebuild_counting(config, monkeypatch)
        # Each node succeeds once and fails at most once per missing input (quadratic before:
        # a sweep over every layer per resolved node).
        assert attempts <= 2 * (n + 1) + 2, (reorder, attempts)
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_allclose(rebuilt(x).detach().numpy(), expected, rtol=1e-6)


@pytest.mark.slow  # two rebuilds of 2,000 layers: ~6 s here
def test_two_thousand_layers_in_reverse_order(monkeypatch):
    """The issue's case: 2,000 layers listed in reverse took 12.5 s (quadratic sweeps)."""
    n = 2000
    model = _chain(n)
    config = model.get_config()
    config["layers"] = config["layers"][::-1]
    rebuilt, attempts = _rebuild_counting(config, monkeypatch)
    assert attempts <= 2 * (n + 1) + 2, attempts
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
