"""Saving and loading the 92,218,123-parameter seed-001 model against plain safetensors + torch.

Ours: `model.save("m.safetensors")` and `keras.models.load_model("m.safetensors")` (rebuilds the
model from its config, then reads the weights). Baseline, measured in the same run: the same
weights in a hand-written `nn.Module`, `safetensors.torch.save_file(module.state_dict(), ...)`,
and for loading, building the module + `module.load_state_dict(load_file(...))`.
Prints median times, paired ratios (goal: save and load within 1.3x) and the peak memory of a
load above the process's resident memory before it (each load in a fresh subprocess), as a
multiple of the weights' size (goal < 1.5x).

`--format keras` measures the Keras 3 `.keras` archive instead (issue 17 goal: <= 3x
`save_file` and <= 3x `load_file` + `load_state_dict`).

Each line also gives the ratio of process CPU times (user + system, this process only), which
resists neighbours on a shared machine better than wall time; `--dir /dev/shm` takes the disk
out of the comparison.

Usage: python scripts/bench_save.py [--repeats 5] [--dir /tmp] [--format safetensors|keras]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import keraslike as keras  # noqa: E402
from tests.models.seed_models import big_conv_sequential  # noqa: E402


class TorchBigConv(nn.Module):
    """Seed 001's model written by hand (same parameter names as the keraslike model)."""

    def __init__(self):
        super().__init__()
        self.first_layer = nn.Conv2d(3, 100, 5)
        self.second_layer = nn.Conv2d(100, 50, 5)
        self.third_layer = nn.Conv2d(50, 32, 5)
        self.fifthy_layer = nn.Linear(212 * 212 * 32, 64)
        self.output_layer = nn.Linear(64, 1)

    def forward(self, x):  # NHWC in, as the Keras model
        x = x.permute(0, 3, 1, 2)
        x = torch.tanh(self.first_layer(x))
        x = torch.tanh(self.second_layer(x))
        x = torch.tanh(self.third_layer(x))
        x = x.permute(0, 2, 3, 1).flatten(1)  # Keras flattens NHWC
        x = F.relu(self.fifthy_layer(x))
        return torch.sigmoid(self.output_layer(x))


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak():
    """Resets the kernel's peak-RSS counter (VmHWM) to the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_child(kind, path):
    """Runs one load in this script as a subprocess; returns its peak memory above its start."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", kind, path],
        check=True, capture_output=True, text=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def _child(kind, path):
    from safetensors.torch import load_file

    _reset_peak()
    before = _status_bytes("VmRSS")
    if kind == "ours":
        model = keras.models.load_model(path)
    else:
        model = TorchBigConv()
        model.load_state_dict(load_file(path))
    peak = _status_bytes("VmHWM")
    del model
    print(peak - before)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--format", choices=("safetensors", "keras"), default="safetensors")
    args = parser.parse_args()
    if args.child:
        return _child(*args.child)
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    model = big_conv_sequential(keras)
    theirs = TorchBigConv()
    with torch.no_grad():
        for key, value in model.state_dict().items():
            theirs.state_dict()[key].copy_(value)
    n_params = model.count_params()
    weight_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    print(f"model: {n_params:,} parameters, {weight_bytes / 2**20:.1f} MiB of weights")

    folder = tempfile.mkdtemp(dir=args.dir, prefix="bench_save_")
    ours_path = os.path.join(folder, "ours." + args.format)
    theirs_path = os.path.join(folder, "theirs.safetensors")

    def save_ours():
        model.save(ours_path)

    def save_theirs():
        save_file(theirs.state_dict(), theirs_path)

    def load_ours():
        return keras.models.load_model(ours_path)

    def load_theirs():
        module = TorchBigConv()
        module.load_state_dict(load_file(theirs_path))
        return module

    save_ours(), save_theirs()  # warm-up (page cache, allocator)
    x = torch.rand(1, 224, 224, 3)
    with torch.no_grad():
        restored = load_ours()
        assert torch.equal(restored(x), model(x)), "loaded model predicts differently"
        assert torch.allclose(load_theirs()(x), model(x), atol=1e-5)
    del restored

    results = {}
    goal = 3 if args.format == "keras" else 1.3
    cases = (("save", save_ours, save_theirs), ("load", load_ours, load_theirs))
    for label, fn_ours, fn_theirs in cases:
        t_ours, t_theirs, c_ours, c_theirs = [], [], [], []
        for _ in range(args.repeats):
            for fn, times, cpu in ((fn_ours, t_ours, c_ours), (fn_theirs, t_theirs, c_theirs)):
                start, cpu_start = time.perf_counter(), time.process_time()
                result = fn()
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - cpu_start)
                del result
        ratios = sorted(a / b for a, b in zip(t_ours, t_theirs))
        cpu_ratios = sorted(a / b for a, b in zip(c_ours, c_theirs))
        results[label] = statistics.median(ratios)
        print(
            f"{label}: ours {statistics.median(t_ours):.3f} s, safetensors+torch "
            f"{statistics.median(t_theirs):.3f} s; ratio median {statistics.median(ratios):.2f} "
            f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f}; goal <= {goal}); CPU-time ratio median "
            f"{statistics.median(cpu_ratios):.2f} (min {cpu_ratios[0]:.2f}, max {cpu_ratios[-1]:.2f})",
            flush=True,
        )
    peak_ours = _peak_child("ours", ours_path)
    peak_theirs = _peak_child("theirs", theirs_path)
    print(
        f"peak memory while loading (above the process before loading): ours "
        f"{peak_ours / 2**20:.0f} MiB = {peak_ours / weight_bytes:.2f}x the weights (goal < 1.5x); "
        f"safetensors+torch {peak_theirs / 2**20:.0f} MiB = {peak_theirs / weight_bytes:.2f}x"
    )
    for path in (ours_path, theirs_path):
        os.unlink(path)
    os.rmdir(folder)


if __name__ == "__main__":
    main()
