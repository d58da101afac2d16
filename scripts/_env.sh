# Sourced by scripts/demo and scripts/test: creates .venv on first use and installs the project.
# On this machine torch is pinned to the local CPU wheel; an unpinned torch pulls GBs of CUDA packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${KERASLIKE_VENV:-$ROOT/.venv}"
STAMP="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if [ ! -f "$STAMP" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "torch==${KERASLIKE_TORCH_VERSION:-2.13.0}"
    "$VENV/bin/python" -m pip install --quiet -e ".[test]"
    touch "$STAMP"
fi
# Graphviz's `dot` draws plot_model pictures; best effort (the tests that need it skip without it).
if ! command -v dot >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq graphviz) >/dev/null 2>&1 || echo "note: graphviz not installed; plot_model tests will skip"
fi
export PATH="$VENV/bin:$PATH"
export KERAS_BACKEND=torch
