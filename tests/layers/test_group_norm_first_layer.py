"""GroupNormalization as a model's first layer trains (torch 2.13's CPU group_norm backward
segfaults on a channels_last input that needs no gradient while the weights do).

The training step runs in a child process, so a regression fails this test instead of killing
the test run.
"""

import os
import subprocess
import sys

import pytest

_PROGRAM = """
import numpy as np, torch
import keraslike as keras
L = keras.layers
shape = (6, 6, 2) if {rank} == 4 else (3, 3, 3, 2)
norm = L.GroupNormalization(groups=1)
model = keras.Sequential([keras.Input(shape), norm, L.Flatten(), L.Dense(2)])
x = torch.randn(8, *shape)
model(x, training=True).square().mean().backward()
# The same gradient through a contiguous input, the path torch computes without crashing.
gamma = norm.weight.detach().clone().requires_grad_()
normed = torch.nn.functional.group_norm(x.movedim(-1, 1).contiguous(), 1, gamma,
                                        norm.bias.detach(), 1e-3).movedim(1, -1)
model.layers[-1](model.layers[1](normed)).square().mean().backward()
print("gap", float((norm.weight.grad - gamma.grad).abs().max()))
model.compile(optimizer="adam", loss="mse")
history = model.fit(np.asarray(x), np.zeros((8, 2), "float32"), batch_size=4, epochs=1, verbose=0)
print("loss", history.history["loss"][0])
"""


@pytest.mark.slow
@pytest.mark.parametrize("rank", [4, 5])
def test_group_normalization_first_layer_trains(rank):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _PROGRAM.format(rank=rank)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert float(lines["gap"]) < 1e-6
    assert float(lines["loss"]) > 0.0
