"""The common mistakes of a new user end in a short traceback and a message naming the culprit.

Issue 15 item 4: with traceback filtering on (the default), each mistake shows the user's own
line, at most one keraslike frame (the entry point that re-raises, as in Keras) and the message.
The in-process tests check the formatted traceback; the subprocess test checks what Python
prints for an uncaught error.
"""

import json
import os
import subprocess
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import keraslike as keras
from keraslike.backend import traceback_utils

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))


def label_shape():
    model = _model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.zeros((8, 4), "float32"), np.zeros((8, 5), "float32"), verbose=0)


def input_shape():
    _model().predict(np.zeros((2, 7), "float32"), verbose=0)


def unknown_loss():
    _model().compile(optimizer="adam", loss="categorical_crossentropyy")


def unknown_optimizer():
    _model().compile(optimizer="adamm", loss="mse")


def unknown_activation():
    keras.layers.Dense(3, activation="relux")


def wrong_rank():
    keras.layers.Conv2D(2, 3)(keras.Input((4,)))


def missing_compile():
    _model().fit(np.zeros((8, 4), "float32"), np.zeros((8, 3), "float32"), verbose=0)


# mistake -> (exception type, words the last line must contain)
MISTAKES = {
    label_shape: (ValueError, ["target.shape=(8, 5)", "output.shape=(8, 3)", "sparse_categorical_crossentropy"]),
    input_shape: (ValueError, ['Input "input_layer" of model "functional"', "(None, 4)", "(2, 7)"]),
    unknown_loss: (ValueError, ["loss identifier: categorical_crossentropyy", "Did you mean 'categorical_crossentropy'"]),
    unknown_optimizer: (ValueError, ["optimizer identifier: 'adamm'", "Did you mean 'Adam'"]),
    unknown_activation: (ValueError, ["activation function identifier: relux", "Did you mean 'relu'"]),
    wrong_rank: (ValueError, ['layer "conv2d"', "expected min_ndim=4, found ndim=2", "(None, 4)"]),
    missing_compile: (ValueError, ["You must call `compile()`", "`fit`"]),
}

_MAX_FRAMES = 3  # this file's frames (the test's call, the mistake's line) + the re-raising entry point


def _frames(lines):
    return [line for line in lines if line.startswith('  File "')]


def _keraslike_frames(frames):
    return [f for f in frames if os.sep + "keraslike" + os.sep in f]


@pytest.mark.parametrize("mistake", list(MISTAKES), ids=lambda f: f.__name__)
def test_short_traceback_naming_the_culprit(mistake):
    error_type, words = MISTAKES[mistake]
    assert traceback_utils.is_traceback_filtering_enabled()
    with pytest.raises(error_type) as info:
        mistake()
    lines = "".join(traceback.format_exception(info.value)).splitlines()
    frames = _frames(lines)
    assert len(frames) <= _MAX_FRAMES, "\n".join(lines)
    assert len(_keraslike_frames(frames)) <= 1, "\n".join(lines)
    assert any(mistake.__name__ in f for f in frames)  # the user's own line is kept
    last = lines[-1]
    assert last.startswith(error_type.__name__ + ": ")
    for word in words:
        assert word in last, last


def test_full_traceback_when_filtering_is_off():
    keras.config.disable_traceback_filtering()
    try:
        with pytest.raises(ValueError) as info:
            unknown_activation()
    finally:
        keras.config.enable_traceback_filtering()
    frames = _frames("".join(traceback.format_exception(info.value)).splitlines())
    assert len(_keraslike_frames(frames)) >= 3  # Dense.__init__, activations.get, get_object


_SCRIPT = """
import importlib.util
spec = importlib.util.spec_from_file_location("common_mistakes", {path!r})
mistakes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mistakes)
mistakes.{name}()
"""


@pytest.mark.slow
def test_uncaught_errors_print_short_tracebacks():
    """What Python prints for each mistake, uncaught, in a fresh process (one per mistake; the
    processes run two at a time)."""
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=_ROOT)

    def run(mistake):
        script = _SCRIPT.format(path=os.path.abspath(__file__), name=mistake.__name__)
        return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=300)

    report = {}
    with ThreadPoolExecutor(2) as pool:
        runs = {mistake: pool.submit(run, mistake) for mistake in MISTAKES}
    for mistake, (error_type, words) in MISTAKES.items():
        out = runs[mistake].result()
        lines = [line for line in out.stderr.splitlines() if "Warning" not in line]
        start = max(i for i, line in enumerate(lines) if line.startswith("Traceback"))
        lines = lines[start:]
        frames = _frames(lines)
        report[mistake.__name__] = lines
        assert out.returncode == 1
        # <string>, exec_module's call, the mistake's line here, the re-raising entry point
        assert len(frames) <= 4, json.dumps(report, indent=1)
        assert len(_keraslike_frames(frames)) == 1, json.dumps(report, indent=1)
        assert lines[-1].startswith(error_type.__name__ + ": ")
        for word in words:
            assert word in lines[-1], lines[-1]
