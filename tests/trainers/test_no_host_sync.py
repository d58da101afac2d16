"""`fit` reads values back to the host per epoch, never per step (verbose=0 and verbose=2)."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers

_READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")


@pytest.fixture
def count_host_reads(monkeypatch):
    counts = {"n": 0}
    for name in _READS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counts


def _fit(samples, verbose, counts):
    inputs = keras.Input((6,))
    x = layers.Dense(8, activation="relu")(layers.Dropout(0.1)(inputs))
    model = keras.Model(inputs, layers.Dense(3)(x))
    model.compile(
        keras.optimizers.Adam(),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    rng = np.random.default_rng(0)
    x_data = rng.standard_normal((samples, 6)).astype("float32")
    y_data = rng.integers(0, 3, samples)
    model.fit(x_data[:8], y_data[:8], batch_size=8, epochs=1, verbose=0)  # warm-up builds
    counts["n"] = 0
    model.fit(x_data, y_data, batch_size=8, epochs=2, verbose=verbose, validation_split=0.25)
    return counts["n"]


@pytest.mark.parametrize("verbose", [0, 2])
def test_host_reads_do_not_grow_with_the_number_of_steps(count_host_reads, verbose, capsys):
    few = _fit(64, verbose, count_host_reads)
    many = _fit(640, verbose, count_host_reads)  # ten times the steps per epoch
    capsys.readouterr()
    assert few == many, f"host reads grew with steps: {few} for 64 samples, {many} for 640"
