"""Keras-style traceback filtering: short tracebacks through keraslike by default, full when off."""

import os
import traceback

import pytest

import keraslike as keras
from keraslike.backend import traceback_utils

PACKAGE = os.path.dirname(keras.__file__) + os.sep


def _frames(error):
    return traceback.extract_tb(error.__traceback__)


def _keraslike_frames(error):
    return [f for f in _frames(error) if f.filename.startswith(PACKAGE)]


def _wrong_layer_call():
    # A Conv2D on a rank-2 input: Keras's input_spec error, raised deep inside keraslike.
    keras.layers.Conv2D(2, 3)(keras.Input((5,)))


@pytest.fixture
def filtering():
    yield
    keras.config.enable_traceback_filtering()


def test_config_switches(filtering):
    assert keras.config.is_traceback_filtering_enabled()
    keras.config.disable_traceback_filtering()
    assert not keras.config.is_traceback_filtering_enabled()
    keras.config.enable_traceback_filtering()
    assert keras.config.is_traceback_filtering_enabled()


def test_wrong_layer_call_is_short_when_filtering(filtering):
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=2") as info:
        _wrong_layer_call()
    frames = _frames(info.value)
    names = [f.name for f in frames]
    # The user's frames stay (this test and the helper it calls), with the message.
    assert "_wrong_layer_call" in names
    # Of keraslike, only the entry point's re-raise line remains (Keras shows the same line).
    inside = _keraslike_frames(info.value)
    assert len(inside) <= 1, [(f.filename, f.name) for f in inside]
    assert not any("torch/nn/modules/module.py" in f.filename for f in frames)
    text = "".join(traceback.format_exception(info.value))
    assert "expected min_ndim=4, found ndim=2" in text


def test_wrong_layer_call_is_complete_without_filtering(filtering):
    keras.config.disable_traceback_filtering()
    with pytest.raises(ValueError, match="expected min_ndim=4") as info:
        _wrong_layer_call()
    inside = _keraslike_frames(info.value)
    assert len(inside) >= 3
    assert any(f.filename.endswith(os.path.join("layers", "input_spec.py")) for f in inside)


def test_saving_entry_points_filter(filtering, tmp_path):
    missing = tmp_path / "nothing.safetensors"
    with pytest.raises(ValueError, match="nothing.safetensors") as info:
        keras.models.load_model(missing)
    assert len(_keraslike_frames(info.value)) <= 1
    keras.config.disable_traceback_filtering()
    with pytest.raises(ValueError) as info:
        keras.models.load_model(missing)
    assert len(_keraslike_frames(info.value)) >= 2


def test_error_in_user_code_keeps_the_user_frame(filtering):
    class Broken(keras.layers.Layer):
        def call(self, x):
            raise RuntimeError("broken call")

    with pytest.raises(RuntimeError, match="broken call") as info:
        Broken()(keras.Input((3,)))
    # Shape inference re-raises with the layer named; the cause still ends in the user's `call`.
    cause = info.value.__cause__
    assert isinstance(cause, RuntimeError)
    frames = _frames(cause)
    assert frames[-1].name == "call" and frames[-1].filename == __file__
    assert not _keraslike_frames(cause)
    text = "".join(traceback.format_exception(info.value))
    assert 'raise RuntimeError("broken call")' in text


def test_filtered_keeps_cause_and_type():
    def inner():
        try:
            raise KeyError("k")
        except KeyError as cause:
            raise TypeError("outer") from cause

    wrapped = traceback_utils.filter_traceback(inner)
    with pytest.raises(TypeError) as info:
        wrapped()
    assert isinstance(info.value.__cause__, KeyError)


def test_model_construction_and_fit_filter(filtering):
    inputs = keras.Input((3,))
    other = keras.Input((3,))
    with pytest.raises(ValueError) as info:
        keras.Model(inputs, keras.layers.Dense(2)(other))  # graph disconnected
    assert len(_keraslike_frames(info.value)) <= 1
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(loss="mse")
    import numpy as np

    with pytest.raises(ValueError) as info:
        model.fit(np.zeros((4, 5), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    assert len(_keraslike_frames(info.value)) <= 1
