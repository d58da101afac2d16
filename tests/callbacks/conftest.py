"""Fixtures of the callback tests (the fakes themselves live in `helpers.py`)."""

import pytest


@pytest.fixture
def keras_callbacks():
    """Keras 3's callbacks (the oracle); skips when Keras is not installed."""
    keras = pytest.importorskip("keras")
    return keras.callbacks
