"""Shared test set-up: Keras (the parity oracle) on its torch backend, fresh names per test."""

import gc
import os
import random

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402
import torch  # noqa: E402


def pytest_collection_finish(session):
    _freeze_long_lived_objects()


def pytest_runtest_setup(item):
    global _frozen_module
    module = getattr(item, "module", None)  # None for non-Python items
    if module is not _frozen_module:
        _frozen_module = module
        _freeze_long_lived_objects()


_frozen_module = None


def _freeze_long_lived_objects():
    # A full `gc.collect()` walks every live object: with torch, Keras, keraslike and ~6,000
    # collected tests in the heap that is 0.2-1 s, and Keras calls it often (`clear_session`,
    # every `del layer.<variable>`, e.g. 8 times per GPTQ/AWQ calibration), which made it most
    # of the run time of many tests. `gc.freeze()` moves what is alive now (modules, collected
    # tests, the previous module's survivors) out of the collector's sight; objects a test
    # creates are still collected. Survivors are refrozen at each new test module. The price:
    # a frozen object that later dies in a reference cycle is never reclaimed (measured over
    # the full suite: ~73,000 such objects of 1.2 million frozen; peak RSS 3.5 GB).
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _fresh_session():
    """Every test starts with default names (`dense`, not `dense_7`) and fixed seeds: torch's,
    and Python's `random`, from which unseeded initializers take their seeds (as Keras's do), so
    a test's initial weights do not depend on the tests run before it."""
    from keraslike.backend import naming

    naming.reset_names()
    torch.manual_seed(0)
    random.seed(0)
    yield


# The fast subset (`./scripts/test -m "not slow"`) must stay under 3 minutes on 2 cores (README).
# Slow by family: files whose every test runs an example script, builds ImageNet-size
# applications, sweeps parity against Keras or exports through ONNX; and whole directories of
# keras-io ports, multi-process distributed runs and wheel builds.
_SLOW_FILES = (
    "tests/test_examples.py",
    "tests/optimizers/test_parity.py",
    "tests/applications/test_architectures.py",
    "tests/applications/test_families.py",
    "tests/applications/test_torchvision_import.py",
    "tests/applications/test_weights.py",
    "tests/saving/test_keras_interop.py",
    "tests/export/test_model_export.py",
)
_SLOW_DIRS = ("tests/ports/", "tests/distribution/", "tests/packaging/")
# Slow by measurement: tests/slow_tests.txt lists the other tests measured above ~0.7 s of CPU
# time (`--durations` / `--junitxml` of the fast subset; regenerate it the same way). A name in
# it that no longer exists is ignored.
_SLOW_LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slow_tests.txt")


def _measured_slow():
    with open(_SLOW_LIST, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def pytest_collection_modifyitems(config, items):
    slow = pytest.mark.slow
    measured = _measured_slow()
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path in _SLOW_FILES or path.startswith(_SLOW_DIRS) or item.nodeid in measured:
            item.add_marker(slow)
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
