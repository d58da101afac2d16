"""Seeded fuzzing of the loaders: mutated files give a ValueError/TypeError, within a memory bound.

The cases run in a child process whose address space may grow by at most 1 GiB after its
imports (`tests/saving/fuzz_files.py`), so an allocation a file provokes beyond that fails the
test instead of the machine; a timeout catches hangs.
"""

import os
import pathlib
import subprocess
import sys

import pytest

_SCRIPT = pathlib.Path(__file__).with_name("fuzz_files.py")
_ROOT = pathlib.Path(__file__).parents[2]


@pytest.mark.slow  # about 20 s: run by ./scripts/test (the whole suite)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_mutated_files_fail_cleanly(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-W", "ignore", str(_SCRIPT), str(tmp_path), "20261204", "300"],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    bad = [line for line in out.stdout.splitlines() if line.startswith("BAD")]
    assert not bad, "\n".join(bad)
    assert "DONE 300 0" in out.stdout, out.stdout[-2000:]
