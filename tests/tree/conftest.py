"""The Keras oracle for op tests: imported once, without `clear_session` (ops create no names
that matter, and `clear_session`'s garbage collection would dominate the run time)."""

import pytest


@pytest.fixture(scope="session")
def keras_oracle():
    """Keras 3 on its torch backend; skips when Keras is not installed."""
    return pytest.importorskip("keras")
