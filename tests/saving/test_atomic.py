"""A save that fails or is killed half-way leaves the previous file intact and loadable."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import keraslike as keras
from keraslike import layers
from keraslike.saving import h5_tensors, safetensors_io

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model(units):
    inputs = keras.Input((8,))
    return keras.Model(inputs, layers.Dense(units, name="out")(layers.Dense(16, name="hidden")(inputs)))


def _outputs(model):
    return model(np.ones((2, 8), "float32")).detach().numpy()


class _Crash(Exception):
    pass


@pytest.mark.parametrize(
    "filename", ["m.safetensors", "m.keras", "w.weights.h5", "w.weights.safetensors"]
)
def test_failed_save_keeps_previous_file(filename, tmp_path, monkeypatch):
    path = tmp_path / filename
    old = _model(3)
    if filename.startswith("w."):
        old.save_weights(path)
    else:
        old.save(path)
    before = path.read_bytes()

    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Crash("disk full")
        return real(*args, **kwargs)

    if filename.endswith(".safetensors"):
        real = safetensors_io._cpu_contiguous
        monkeypatch.setattr(safetensors_io, "_cpu_contiguous", crash_on_second)
    else:
        real = h5_tensors.write_tensor
        monkeypatch.setattr(h5_tensors, "write_tensor", crash_on_second)
    new = _model(3)
    with pytest.raises(_Crash):
        if filename.startswith("w."):
            new.save_weights(path)
        else:
            new.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [filename]  # the temp file was removed
    if filename.startswith("w."):
        check = _model(3)
        check.load_weights(path)
    else:
        check = keras.models.load_model(path)
    np.testing.assert_array_equal(_outputs(check), _outputs(old))


def test_killed_save_keeps_previous_file(tmp_path):
    path = tmp_path / "m.safetensors"
    old = _model(3)
    old.save(path)
    before = path.read_bytes()
    child = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {ROOT!r})
        import keraslike as keras
        from keraslike import layers
        from keraslike.saving import safetensors_io

        real = safetensors_io._byte_view
        def slow(tensor):
            print("writing", flush=True)
            time.sleep(60)  # the parent kills us here, with the header already written
            return real(tensor)
        safetensors_io._byte_view = slow
        inputs = keras.Input((8,))
        model = keras.Model(inputs, layers.Dense(5)(inputs))
        model.save({str(path)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(0.1)
        strays = [name for name in os.listdir(tmp_path) if name != "m.safetensors"]
        assert strays and all(name.startswith(".m.safetensors.tmp-") for name in strays)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    np.testing.assert_array_equal(_outputs(keras.models.load_model(path)), _outputs(old))
    # The killed save's temp file is removed by the next save to that path.
    assert [name for name in os.listdir(tmp_path) if name != "m.safetensors"]
    old.save(path)
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_stale_keras_scratch_folder_removed_at_next_save(tmp_path):
    pytest.importorskip("h5py")
    # A folder left by a killed process (pid 2**22 + 1 is above Linux's pid_max default).
    stale = tmp_path / f".keras-save-{2**22 + 1}-abc"
    stale.mkdir()
    (stale / "model.weights.h5").write_bytes(b"x" * 100)
    live = tmp_path / f".keras-save-{os.getpid()}-mine"
    live.mkdir()
    _model(3).save(tmp_path / "m.keras")
    assert not stale.exists()
    assert live.exists()  # this process's (or another live one's) folders are left alone
