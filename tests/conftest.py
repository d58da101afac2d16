"""Shared test set-up: Keras (the parity oracle) on its torch backend, fresh names per test."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    """Every test starts with default names (`dense`, not `dense_7`) and a fixed seed."""
    from keraslike.backend import naming

    naming.reset_names()
    torch.manual_seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def keras_oracle():
    """Keras 3 on its torch backend, with a fresh session; skips when Keras is not installed."""
    keras = pytest.importorskip("keras")
    keras.backend.clear_session()
    return keras
