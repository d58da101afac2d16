"""Fixtures of the callback tests (the fakes themselves live in `helpers.py`)."""

import pytest


@pytest.fixture
def keras_callbacks():
    """Keras 3's callbacks (the oracle); skips when Keras is not installed."""
    keras = pytest.importorskip("keras")
    return keras.callbacks


@pytest.fixture(autouse=True)
def _as_on_a_terminal(monkeypatch):
    """Keras's progress displays are compared as a terminal shows them (captured stdout is a
    pipe, where keraslike prints plain lines instead)."""
    from keraslike.utils import progbar

    monkeypatch.setattr(progbar, "_stdout_is_terminal", lambda: True)
