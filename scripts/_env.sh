# Sourced by scripts/demo and scripts/test: creates .venv on first use and installs the project.
# On this machine torch is pinned to the local CPU wheel; an unpinned torch pulls GBs of CUDA packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${KERASLIKE_VENV:-$ROOT/.venv}"
STAMP="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
say() { echo "[keraslike set-up] $*" >&2; }
if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV"
    python3 -m venv "$VENV"
fi
if [ ! -f "$STAMP" ]; then
    say "first run (or pyproject.toml changed): installing, about a minute"
    say "1/3 upgrading pip"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    say "2/3 torch==${KERASLIKE_TORCH_VERSION:-2.13.0}"
    "$VENV/bin/python" -m pip install --quiet "torch==${KERASLIKE_TORCH_VERSION:-2.13.0}"
    say "3/3 keraslike (editable) with its test extra (Keras 3 as the parity oracle, h5py, pydot, ...)"
    "$VENV/bin/python" -m pip install --quiet -e ".[test]"
    touch "$STAMP"
    say "done"
fi
# Graphviz's `dot` draws plot_model pictures; best effort (the tests that need it skip without it).
if ! command -v dot >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing graphviz (plot_model pictures), best effort"
    (apt-get update -qq && apt-get install -y -qq graphviz) >/dev/null 2>&1 || say "note: graphviz not installed; plot_model tests will skip"
fi
export PATH="$VENV/bin:$PATH"
export KERAS_BACKEND=torch
