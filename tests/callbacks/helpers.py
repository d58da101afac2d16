"""Fakes for driving callbacks directly: a tiny model and optimizer that both keraslike's and
Keras's callbacks accept, so the same hook sequence can be replayed on each."""

import io
import sys
import time

import numpy as np
import pytest
import torch


class FakeOptimizer:
    """`learning_rate` reads as a 0-d float32 tensor and is set with a float (keraslike's API)."""

    def __init__(self, learning_rate=0.01, name="sgd"):
        self.name = name
        self._lr = torch.tensor(learning_rate, dtype=torch.float32)
        self.iterations = torch.tensor(0)

    @property
    def learning_rate(self):
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = torch.tensor(float(value), dtype=torch.float32)


class FakeModel(torch.nn.Module):
    """A real module (so `state_dict` works) with the attributes callbacks use."""

    def __init__(self, learning_rate=0.01):
        super().__init__()
        self.dense = torch.nn.Linear(3, 2)
        self.register_buffer("moving", torch.zeros(2))
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.saved = []  # (kind, path) for every save / save_weights call

    # Keras's callbacks use get_weights / set_weights.
    def get_weights(self):
        return [v.detach().clone().numpy() for v in self.state_dict().values()]

    def set_weights(self, weights):
        self.load_state_dict({k: torch.as_tensor(w) for k, w in zip(self.state_dict(), weights)})

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", filepath))
        with open(filepath, "w") as f:
            f.write("model")

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", filepath))
        with open(filepath, "w") as f:
            f.write("weights")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def run_captured(fn):
    """Calls `fn(clock)` with `time.time` mocked (a settable clock) and stdout captured;
    returns the captured text."""
    clock = Clock()
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", clock)
        patch.setattr(sys, "stdout", out)
        fn(clock)
    return out.getvalue()


def float32_sequence(n, seed, low=0.0, high=2.0):
    """Values exactly representable in float32, as Python floats."""
    rng = np.random.default_rng(seed)
    return [float(np.float32(v)) for v in rng.uniform(low, high, n)]
