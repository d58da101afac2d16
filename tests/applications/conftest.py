"""Shared models for the application tests: each big model is built once per session, in both libraries.

Tests that change a shared model put its weights back before they return.
"""

import numpy as np
import pytest
import torch


def build_pair(name, meta=False, **kwargs):
    """Builds Keras's and keraslike's `name` model with the same arguments, fresh names in both.

    `meta=True` creates our weights on the meta device: no memory, no initialization time, for
    tests that only look at the structure.
    """
    keras = pytest.importorskip("keras")
    from keraslike import applications
    from keraslike.backend import naming

    keras.backend.clear_session(free_memory=False)  # names only; a gc pass per build is slow
    naming.reset_names()
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    ours = build_meta(name, **kwargs) if meta else getattr(applications, name)(weights=None, **kwargs)
    return theirs, ours


def _rescaling_scalar_on_cpu(value, dtype):
    # Rescaling's constructor rounds its scale with `torch.as_tensor(...).item()` on the default
    # device, which fails under `torch.device("meta")`; the same rounding on the CPU.
    if np.ndim(value) != 0:
        return None
    return torch.as_tensor(np.asarray(value).item(), dtype=dtype, device="cpu").item()


def build_meta(name, **kwargs):
    """Our `name` model with weights on the meta device (structure only)."""
    from keraslike import applications
    from keraslike.backend import naming
    from keraslike.layers import Rescaling

    naming.reset_names()
    original = Rescaling.__dict__["_as_scalar"]
    Rescaling._as_scalar = staticmethod(_rescaling_scalar_on_cpu)
    try:
        with torch.device("meta"):
            return getattr(applications, name)(weights=None, **kwargs)
    finally:
        Rescaling._as_scalar = original


def randomize_batchnorm(keras_model, seed=0):
    """Gives Keras's BatchNormalization layers non-trivial statistics, so BN parity means something."""
    rng = np.random.default_rng(seed)
    values = []
    for variable, value in zip(keras_model.weights, keras_model.get_weights()):
        path = variable.path
        if "moving_variance" in path:
            value = rng.uniform(0.5, 1.5, value.shape).astype(value.dtype)
        elif "moving_mean" in path or "gamma" in path or "beta" in path:
            value = value + rng.normal(0.0, 0.1, value.shape).astype(value.dtype)
        values.append(value)
    keras_model.set_weights(values)


def predict_both(theirs, ours, x):
    """Outputs of both models (inference mode) on the same NumPy batch."""
    import keras

    expected = keras.ops.convert_to_numpy(theirs(x, training=False))
    with torch.no_grad():
        got = ours(torch.as_tensor(x)).numpy()
    return expected, got


@pytest.fixture(scope="session")
def resnet50_pair():
    """Keras's and our ResNet50(include_top=False, input_shape=(64, 64, 3)), same weights."""
    theirs, ours = build_pair("ResNet50", include_top=False, input_shape=(64, 64, 3))
    randomize_batchnorm(theirs)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.fixture(scope="session")
def vgg16_pair():
    """Keras's and our VGG16(include_top=False, input_shape=(64, 64, 3)), same weights."""
    theirs, ours = build_pair("VGG16", include_top=False, input_shape=(64, 64, 3))
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.fixture(scope="session")
def mobilenet_pair():
    """Keras's and our small MobileNetV2 (alpha 0.35, 96x96, 7 classes), same weights."""
    theirs, ours = build_pair("MobileNetV2", input_shape=(96, 96, 3), alpha=0.35, classes=7)
    randomize_batchnorm(theirs)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache folder (`$KERAS_HOME`) with a `models/` subfolder; `~` points elsewhere."""
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    return home
