#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go, each part under its own time limit:
#   1. the `cuda`-marked tests, then the distributed ones (NCCL, or gloo on one shared GPU);
#   2. the GPU benchmark table (scripts/bench_gpu.py: forward, fit, ResNet50 bf16, predict, DDP);
#   3. applications forward vs torchvision (scripts/bench_applications.py --device cuda);
#   4. the augmentation stack on the GPU (scripts/bench_augment.py --device cuda);
#   5. data-parallel fit vs a hand-written DDP loop on the GPU (scripts/bench_ddp.py --device cuda);
#   6. int8/int4/float8 inference vs the float model (scripts/bench_quantize.py --device cuda).
# Run from the repository root on a GPU machine:
#     scripts/gpu_check.sh [OUTDIR]      (logs go to OUTDIR, default the current folder)
# Needs torch with CUDA, pytest, numpy and safetensors; Keras and torchvision are optional (the
# parts that compare against them say so and skip).
# Time limits (seconds) can be changed: KERASLIKE_CUDA_TEST_TIMEOUT, KERASLIKE_GPU_BENCH_TIMEOUT,
# KERASLIKE_CUDA_DIST_TIMEOUT, KERASLIKE_GPU_APPS_TIMEOUT, KERASLIKE_GPU_AUGMENT_TIMEOUT,
# KERASLIKE_GPU_DDP_TIMEOUT, KERASLIKE_GPU_QUANTIZE_TIMEOUT; KERASLIKE_GPU_WHEELS names a folder of wheels to install Keras from.
# KERASLIKE_GPU_PARTS (e.g. "cuda_tests bench_applications") runs only the parts named.
set -uo pipefail
out="${1:-.}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=torch PYTHONUNBUFFERED=1

part() {  # part NAME SECONDS COMMAND...: runs one part, logs it, never stops the others
    local name="$1" limit="$2"
    shift 2
    if [ -n "${KERASLIKE_GPU_PARTS:-}" ] && [[ " $KERASLIKE_GPU_PARTS " != *" $name "* ]]; then
        return 0
    fi
    echo "=== $name (limit ${limit}s) ==="
    local start=$SECONDS
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    tail -n 60 "$out/$name.log" | grep -v "^ERROR tests/"
    echo "=== $name: exit $rc after $((SECONDS - start))s ==="
}

python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(), 'devices:', torch.cuda.device_count())"
# Keras 3 (the parity oracle of many cuda tests) from a folder of wheels, on a machine offline:
# `pip download keras==3.15.1 --python-version <the GPU python's> --only-binary=:all: -d DIR`.
if [ -n "${KERASLIKE_GPU_WHEELS:-}" ]; then
    python3 -m pip install -q --no-index --find-links "$KERASLIKE_GPU_WHEELS" keras==3.15.1 2>&1 | tail -2
    python3 -c "import keras; print('keras', keras.__version__)"
fi
part cuda_tests "${KERASLIKE_CUDA_TEST_TIMEOUT:-180}" \
    python3 -m pytest -q -m cuda -p no:cacheprovider --continue-on-collection-errors -rfEs \
    --ignore=tests/distribution
part cuda_distribution_tests "${KERASLIKE_CUDA_DIST_TIMEOUT:-180}" \
    python3 -m pytest -q -m cuda -p no:cacheprovider -rfEs tests/distribution
part bench_gpu "${KERASLIKE_GPU_BENCH_TIMEOUT:-150}" python3 scripts/bench_gpu.py --quick
part bench_applications "${KERASLIKE_GPU_APPS_TIMEOUT:-90}" \
    python3 scripts/bench_applications.py --device cuda --repeats 3 --count-ops
part bench_augment "${KERASLIKE_GPU_AUGMENT_TIMEOUT:-40}" \
    python3 scripts/bench_augment.py --part augment --device cuda
part bench_ddp "${KERASLIKE_GPU_DDP_TIMEOUT:-60}" python3 scripts/bench_ddp.py --device cuda
part bench_quantize "${KERASLIKE_GPU_QUANTIZE_TIMEOUT:-60}" \
    python3 scripts/bench_quantize.py --device cuda --width 5120 --depth 4 --batch 64 --repeats 20
