"""`import keraslike` stays cheap: nothing heavy is imported until it is used (keraslike/README.md)."""

import json
import os
import subprocess
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _start(code):
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=_ROOT)
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _result(process):
    try:
        stdout, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


def _run(code):
    return _result(_start(code))


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


@pytest.mark.slow
def test_preprocessing_export_source_and_feature_space_load_on_first_use_and_by_name():
    # Each lookup runs in its own fresh process (the processes run side by side): the registry
    # must resolve a lazily loaded class by name before anything touched its family.
    lazy = ("keraslike.layers.preprocessing", "keraslike.export.torch_source",
            "keraslike.utils.feature_space", "keraslike.export.exporter", "keraslike.utils.model_visualization",
            "keraslike.utils.image_dataset_utils", "keraslike.utils.audio_dataset_utils", "wave")
    code = f"""
import json, sys
import keraslike as keras
print(json.dumps([m in sys.modules for m in {lazy!r}]))
"""
    first = _start(code)
    lookups = {
        "deserialize": "keras.layers.deserialize({'module': 'keras.layers', 'class_name': "
        "'Rescaling', 'config': {'scale': 2.0, 'offset': 1.0}, 'registered_name': None})",
        "builtin": "keraslike.serialization.registry.builtin_layer('TextVectorization')",
        "from_config": "keras.Sequential.from_config({'name': 's', 'layers': [{'module': "
        "'keras.layers', 'class_name': 'CenterCrop', 'config': {'height': 2, 'width': 2}, "
        "'registered_name': None}]}).layers[0]",
    }
    processes = {}
    for what, expression in lookups.items():
        code = f"""
import json
import sys
import keraslike, keraslike as keras
assert "keraslike.layers.preprocessing" not in sys.modules
obj = {expression}
from keraslike.layers import preprocessing
cls = obj if isinstance(obj, type) else type(obj)
print(json.dumps([cls.__module__.startswith("keraslike.layers.preprocessing"),
                  getattr(preprocessing, cls.__name__) is cls]))
"""
        processes[what] = _start(code)
    code = """
import json
import keraslike as keras
layer = keras.layers.Rescaling(0.5)
print(json.dumps([keras.layers.serialize(layer)["module"], "Rescaling" in dir(keras.layers),
                  keras.utils.FeatureSpace.__name__, keras.export.to_torch_source.__name__,
                  keras.utils.plot_model.__module__, keras.utils.load_img.__name__,
                  keras.utils.timeseries_dataset_from_array.__name__,
                  "image_dataset_from_directory" in dir(keras.utils),
                  hasattr(keras.Model, "export")]))
"""
    last = _start(code)
    try:
        assert _result(first) == [False] * len(lazy)
        for what, process in processes.items():
            assert _result(process) == [True, True], what
        assert _result(last) == [
            "keras.layers", True, "FeatureSpace", "to_torch_source",
            "keraslike.utils.model_visualization", "load_img", "timeseries_dataset_from_array",
            True, True,
        ]
    finally:  # none left running after a failure
        for process in (first, *processes.values(), last):
            if process.poll() is None:
                process.kill()
                process.wait()
