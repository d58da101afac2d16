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
export PATH="$VENV/bin:$PATH"
export KERAS_BACKEND=torch
