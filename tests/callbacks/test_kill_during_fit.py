"""`kill -9` during `fit` with BackupAndRestore: no temp file survives the next run, and the
resumed run ends bitwise equal to an uninterrupted one (shuffled data, dropout, Adam)."""

import os
import pathlib
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from safetensors.torch import load_file

_SCRIPT = pathlib.Path(__file__).with_name("fit_and_kill.py")
_ROOT = pathlib.Path(__file__).parents[2]
_TIMEOUT = 150


def _env():
    return dict(os.environ, OMP_NUM_THREADS="1", KERAS_BACKEND="torch",
                PYTHONPATH=str(_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _run_to_end(*args):
    out = subprocess.run([sys.executable, str(_SCRIPT), *map(str, args)], capture_output=True,
                         text=True, timeout=_TIMEOUT, env=_env())
    assert out.returncode == 0 and "DONE" in out.stdout, out.stderr[-3000:]
    return out.stdout


def _run_and_kill(out, backup, after_steps):
    """Starts a run and sends SIGKILL once it has reported `after_steps` more steps."""
    process = subprocess.Popen([sys.executable, str(_SCRIPT), str(out), str(backup)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env())
    deadline = time.monotonic() + _TIMEOUT
    seen = []
    try:
        for line in process.stdout:
            if line.startswith("step"):
                seen.append(line.split()[1:])
            if len(seen) >= after_steps or time.monotonic() > deadline:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    assert len(seen) >= after_steps, f"the run ended or stalled after {len(seen)} steps"
    return seen


@pytest.mark.slow  # five child processes, ~15 s
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and fork semantics")
def test_killed_fits_resume_bitwise_and_leave_nothing(tmp_path):
    with ThreadPoolExecutor(1) as pool:  # the uninterrupted reference runs beside the others
        reference = pool.submit(_run_to_end, tmp_path / "reference.safetensors")
        backup = tmp_path / "backup"
        firsts = []
        for after_steps in (7, 5, 9):  # 30 batches in all; each kill lands in a step or a save
            seen = _run_and_kill(tmp_path / "resumed.safetensors", backup, after_steps)
            firsts.append(seen[0])
            names = os.listdir(backup)
            assert "latest.safetensors" in names
            # A kill inside a save may leave this process's temp file; nothing else.
            assert all(n == "latest.safetensors" or n.startswith(".latest.safetensors.tmp-") for n in names), names
        # Each run started after the last backup of the killed run before it.
        assert firsts[0] == ["0", "0"] and firsts[1] != ["0", "0"] and firsts[2] != firsts[1]

        _run_to_end(tmp_path / "resumed.safetensors", backup)
        reference.result()
    assert not backup.exists()  # the backup and any stale temp file were removed
    expected = load_file(tmp_path / "reference.safetensors")
    resumed = load_file(tmp_path / "resumed.safetensors")
    assert expected.keys() == resumed.keys()
    for key, value in expected.items():
        assert resumed[key].equal(value), key
