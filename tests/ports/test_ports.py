"""Ported keras-io examples run under keraslike (`scripts/run_ports_on_keras.py`: Keras 3 control).

Each example keeps its model and training code; only data (small synthetic arrays of the
example's shapes and dtypes), epochs and plotting change (see each file's header). Asserted:
the example runs, the training loss is finite every epoch and lower at the end than after the
first epoch (the examples fit their tiny synthetic training set).
"""

import importlib

import numpy as np
import pytest

import keraslike
from tests.ports.registry import PORTS


@pytest.mark.slow
@pytest.mark.parametrize("name", PORTS)
def test_port_trains_under_keraslike(name):
    module = importlib.import_module(f"tests.ports.{name}")
    history = module.run(keraslike)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], f"{name}: training loss did not decrease: {losses}"
