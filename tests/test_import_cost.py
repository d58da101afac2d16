"""`import keraslike` stays cheap: nothing heavy is imported until it is used (keraslike/README.md)."""

import json
import os
import subprocess
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code):
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=_ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_heavy_families_load_on_first_use_and_compiler_marks_apply_when_compiling():
    code = """
import json, sys
import keraslike as keras
from keraslike.trainers.compile_utils import CompileMetrics, RunningMean
from keraslike.trainers.trainer import Trainer

def marks():
    methods = [RunningMean.update_state, CompileMetrics.update_state, Trainer.get_metrics_result]
    return [getattr(f, "_torchdynamo_disable", False) for f in methods]

loaded_at_import = "torch._dynamo" in sys.modules
lazy_loaded = [f"keraslike.{n}" in sys.modules for n in ("applications", "datasets", "preprocessing")]
from keraslike import datasets
from keraslike.applications import VGG16
lazy_work = [keras.applications.VGG16 is VGG16, keras.datasets is datasets,
             keras.preprocessing.sequence.pad_sequences is keras.utils.pad_sequences,
             "applications" in dir(keras)]
before = marks()
inputs = keras.Input((3,))
model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
model.compile(optimizer="sgd", loss="mse", metrics=["mae"], jit_compile=True)
model.make_train_function()
print(json.dumps([loaded_at_import, lazy_loaded, lazy_work, before, marks()]))
"""
    loaded_at_import, lazy_loaded, lazy_work, before, after = _run(code)
    assert loaded_at_import is False
    assert lazy_loaded == [False, False, False]
    assert lazy_work == [True, True, True, True]
    assert before == [False, False, False]
    assert after == [True, True, True]


@pytest.mark.slow
def test_marks_apply_at_once_when_dynamo_is_already_imported():
    code = """
import json
import torch._dynamo
from keraslike.trainers.trainer import Trainer
print(json.dumps(getattr(Trainer.get_metrics_result, "_torchdynamo_disable", False)))
"""
    assert _run(code) is True
