"""Runs every script in `examples/` as a user would (`python examples/<name>.py`) and checks it succeeds.

Each example checks its own outcome (shapes, parameter counts, loss going down) and exits non-zero
with `CHECK FAILED: ...` when a check fails; this test only runs them in a fresh interpreter each
(default layer names, no state shared between scripts) with a time limit.

Threads: the scripts run with `OMP_NUM_THREADS=1` unless the environment sets it. The models are
small, and on a shared 2-core machine a busy neighbour makes torch's multi-threaded CPU kernels
many times slower (see DESIGN.md, "Environment facts"); one thread keeps the run time steady.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES_DIR.glob("*.py") if not path.name.startswith("_"))

# Scripts that take more than ~20 s on 2 CPU cores.
SLOW = set()

TIMEOUT_S = 180


def _env(tmp_path):
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["TMPDIR"] = str(tmp_path)  # the scripts save and plot into tempfile.mkdtemp()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Import keraslike from this checkout, as the scripts' users do from the repository root.
    root = str(EXAMPLES_DIR.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def test_examples_are_found():
    assert "first_model_and_training.py" in SCRIPTS
    assert len(SCRIPTS) >= 17, SCRIPTS


def test_readme_lists_every_example():
    readme = (EXAMPLES_DIR / "README.md").read_text()
    missing = [name for name in SCRIPTS if f"`{name}`" not in readme]
    assert not missing, f"examples/README.md does not list: {missing}"


def _run(script, tmp_path):
    try:
        return subprocess.run(
            [sys.executable, str(EXAMPLES_DIR / script)],
            cwd=EXAMPLES_DIR.parent,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        return error


# The scripts run single-threaded, so the selected ones are started up front, as many at a time
# as the machine has cores (at most 2); each test waits for its own script. Each script still
# runs alone in a fresh interpreter, with its own TMPDIR and time limit.
_WORKERS = max(1, min(2, os.cpu_count() or 1))


@pytest.fixture(scope="module")
def launched(request, tmp_path_factory):
    selected = [item.callspec.params["script"] for item in request.session.items
                if getattr(item, "module", None) is request.module
                and getattr(item, "originalname", None) == "test_example_runs"]
    pool = ThreadPoolExecutor(_WORKERS)
    runs = {script: pool.submit(_run, script, tmp_path_factory.mktemp(script[:-3]))
            for script in selected}
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize(
    "script", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name for name in SCRIPTS]
)
def test_example_runs(script, launched):
    result = launched[script].result()
    if isinstance(result, subprocess.TimeoutExpired):
        output = (result.stdout or b"")[-3000:]
        pytest.fail(f"examples/{script} did not finish in {TIMEOUT_S} s; last output:\n{output}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"examples/{script} failed (exit {result.returncode}):\n{output[-6000:]}"
    assert "CHECK FAILED" not in output, output[-6000:]
    if script != "demo_mnist.py":  # every other example ends by printing "OK: ..."
        assert "\nOK: " in "\n" + result.stdout, f"examples/{script} did not reach its end:\n{output[-3000:]}"
