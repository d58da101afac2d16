"""The GPU benchmark, ready to run on a CUDA machine: one command, one table.

Runs, against hand-written PyTorch measured in the same process:
- forward overhead (`bench_forward.py --device cuda`): MLP, 50-layer chain, toy ResNet;
- `fit` for the MLP and the toy ResNet (`bench_fit.py --device cuda`);
- a ResNet50 training step under bf16 autocast with channels_last activations: keraslike's
  `train_on_batch` (mixed_bfloat16 policy) vs a hand loop over the same network written as plain
  torch by `keraslike.export.to_torch_source`;
- `predict_on_batch` on numpy at batch 1 vs `module(torch.from_numpy(x))` plus the copy back
  (and `bench_predict.py`: predict, predict_on_batch, model(x) for three models);
- data-parallel `fit` (`bench_ddp.py`) when that script exists.

Usage: PYTHONPATH=. python scripts/bench_gpu.py [--quick]   (also runs on CPU, small, as a check)
"""

import argparse
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import keraslike as keras  # noqa: E402


def _sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def _time(fn, device, repeats, number):
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for _ in range(number):
            fn()
        _sync(device)
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def bench_resnet50_bf16(device, batch, repeats):
    """ms per training step, keraslike vs the same network as hand-written torch."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3), classes=1000)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "resnet50_torch.py")
        keras.export.to_torch_source(model, path, verify=False)
        torch_model = runpy.run_path(path)["load"](device=device)
    model.to(device)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    torch_model.train()
    optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.01)
    x = torch.rand(batch, 224, 224, 3, device=device)
    y = torch.randint(0, 1000, (batch,), device=device)

    def ours():
        model.train_on_batch(x, y)

    def theirs():
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            probabilities = torch_model(x)
            loss = torch.nn.functional.nll_loss(torch.log(probabilities.float().clamp_min(1e-7)), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for fn in (ours, theirs):
        fn()
        fn()
    t_ours = _time(ours, device, repeats, 3)
    t_theirs = _time(theirs, device, repeats, 3)
    return t_ours, t_theirs


def bench_predict_batch1(device, repeats):
    """us per predict_on_batch(numpy) at batch 1 vs module(torch.from_numpy(x)) + copy back."""
    from bench_common import TorchMLP, copy_weights, keras_mlp

    model = keras_mlp().to(device)
    reference = TorchMLP().to(device).eval()
    copy_weights(model, reference)
    x = np.random.rand(1, 784).astype("float32")

    def ours():
        return model.predict_on_batch(x)

    def theirs():
        with torch.no_grad():
            return reference(torch.from_numpy(x).to(device)).cpu().numpy()

    np.testing.assert_allclose(ours(), theirs(), rtol=1e-4, atol=1e-5)
    return _time(ours, device, repeats, 200), _time(theirs, device, repeats, 200)


def _script(name, *args):
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        return f"({name} not present)"
    result = subprocess.run([sys.executable, path, *args], capture_output=True, text=True, cwd=HERE)
    return (result.stdout + result.stderr[-2000:]).strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller batches")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = args.device
    repeats = 3 if args.quick else 7
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(f"torch {torch.__version__}, device {device} ({name})", flush=True)
    rows = []
    t_ours, t_theirs = bench_predict_batch1(device, repeats)
    rows.append(("predict_on_batch(numpy) MLP, batch 1", t_ours * 1e6, t_theirs * 1e6, "us"))
    batch = 8 if (args.quick or device == "cpu") else 64
    t_ours, t_theirs = bench_resnet50_bf16(device, batch, repeats)
    rows.append((f"ResNet50 train step bf16, batch {batch}", t_ours * 1e3, t_theirs * 1e3, "ms"))
    print(f"\n{'measure':<44} {'keraslike':>12} {'hand-written':>14} {'ratio':>7}")
    for label, ours, theirs, unit in rows:
        print(f"{label:<44} {ours:>9.1f} {unit} {theirs:>11.1f} {unit} {ours / theirs:>7.3f}")
    print("\n== forward (bench_forward.py) ==")
    print(_script("bench_forward.py", "--device", device) if not args.quick else _script("bench_forward.py", "--device", device, "--quick"))
    print("\n== predict / predict_on_batch / model(x) on numpy, batch 1 (bench_predict.py) ==")
    print(_script("bench_predict.py", "--device", device, "--repeats", "5" if args.quick else "15"))
    print("\n== fit (bench_fit.py) ==")
    print(_script("bench_fit.py", "--device", device, "--repeats", "1" if args.quick else "3"))
    print("\n== data parallel (bench_ddp.py) ==")
    print(_script("bench_ddp.py"))


if __name__ == "__main__":
    main()
