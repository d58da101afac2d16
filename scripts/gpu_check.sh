#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go: the `cuda`-marked tests (NCCL ones included), then
# the GPU benchmark table (scripts/bench_gpu.py). Run from the repository root on a GPU machine:
#     scripts/gpu_check.sh [OUTDIR]      (logs go to OUTDIR, default the current folder)
# Needs torch with CUDA, pytest, numpy and safetensors; Keras is optional (its parity tests skip).
set -uo pipefail
out="${1:-.}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=torch PYTHONUNBUFFERED=1
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
timeout "${KERASLIKE_CUDA_TEST_TIMEOUT:-240}" python3 -m pytest -q -m cuda -p no:cacheprovider \
    --continue-on-collection-errors 2>&1 | tee "$out/cuda_tests.log" | grep -v "^ERROR tests/" | tail -40
timeout "${KERASLIKE_GPU_BENCH_TIMEOUT:-300}" python3 scripts/bench_gpu.py --quick 2>&1 | tee "$out/bench_gpu.log"
