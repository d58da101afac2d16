"""One epoch of `fit` against hand-written PyTorch training loops, in the same run.

Models: the MLP 784-64-64-10 on 60,000x784 (batch 128, RMSprop, sparse crossentropy, accuracy)
and the guide's toy ResNet on 5,000x32x32x3 (batch 64). Loops compared:
- `dataloader`: a hand-written loop over `DataLoader(TensorDataset(x, y), shuffle=True)`;
- `slicing`: a hand-written loop slicing in-memory tensors by a random permutation;
- `fit`: `model.fit(x, y, epochs=1, verbose=0)`.
Each variant runs in its own subprocess (so peak memory is per variant), variants interleaved,
repeated. Prints median epoch time, ratios (fit / loop; goal: <= 1.0 vs dataloader, <= 1.05 vs
slicing), and peak RSS ratios (goal <= 1.1).

On a shared machine, run with `--threads 1` and read the CPU-time ratios too: the process's CPU
time over the epoch does not count time spent descheduled by neighbours (wall time does).

Usage: python scripts/bench_fit.py [--repeats 3] [--models mlp,resnet] [--device cpu|cuda] [--threads 1]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _data(model_name, device):
    import torch

    g = torch.Generator().manual_seed(0)
    if model_name == "mlp":
        x = torch.rand(60000, 784, generator=g)
        y = torch.randint(0, 10, (60000,), generator=g)
        return x, y, 128
    x = torch.rand(5000, 32, 32, 3, generator=g)
    y = torch.randint(0, 10, (5000,), generator=g)
    return x, y, 64


def _hand_written(model_name):
    from bench_common import TorchMLP, TorchToyResNet

    return TorchMLP() if model_name == "mlp" else TorchToyResNet()


def run_variant(variant, model_name, device):
    """Runs one warm-up epoch slice and one timed epoch; returns seconds and peak RSS (MB)."""
    import torch
    import torch.nn.functional as F

    sys.path.insert(0, HERE)
    if os.environ.get("BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    torch.set_flush_denormal(True)
    x, y, batch = _data(model_name, device)
    if variant == "fit":
        import keraslike as keras
        from bench_common import keras_mlp, keras_toy_resnet

        model = keras_mlp() if model_name == "mlp" else keras_toy_resnet()
        model.compile(
            optimizer=keras.optimizers.RMSprop(),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        x_np, y_np = x.numpy(), y.numpy()
        model.fit(x_np[: batch * 4], y_np[: batch * 4], batch_size=batch, epochs=1, verbose=0)
        if device == "cuda":
            torch.cuda.synchronize()
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(x_np, y_np, batch_size=batch, epochs=1, verbose=0)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    else:
        model = _hand_written(model_name).to(device)
        optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        x, y = x.to(device), y.to(device)

        def step(xb, yb, correct):
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                correct += (logits.argmax(-1) == yb).sum()
            return loss

        def epoch(limit=None):
            model.train()
            correct = torch.zeros((), device=device, dtype=torch.long)
            loss_sum = torch.zeros((), device=device)
            if variant == "dataloader":
                loader = torch.utils.data.DataLoader(
                    torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=True
                )
                for i, (xb, yb) in enumerate(loader):
                    if limit is not None and i >= limit:
                        break
                    loss_sum += step(xb, yb, correct).detach() * xb.shape[0]
            else:
                perm = torch.randperm(x.shape[0], device=device)
                for i, start in enumerate(range(0, x.shape[0], batch)):
                    if limit is not None and i >= limit:
                        break
                    idx = perm[start : start + batch]
                    xb, yb = x[idx], y[idx]
                    loss_sum += step(xb, yb, correct).detach() * xb.shape[0]
            return (loss_sum / x.shape[0]).item(), (correct / x.shape[0]).item()  # one read per epoch

        epoch(limit=4)
        start, cpu_start = time.perf_counter(), time.process_time()
        epoch()
        if device == "cuda":
            torch.cuda.synchronize()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="mlp,resnet")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in each run (1 resists neighbours)")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "MODEL", "DEVICE"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(*args.child)))
        return
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    env = dict(os.environ)
    if args.threads:
        env["BENCH_THREADS"] = str(args.threads)
    threads = args.threads or torch.get_num_threads()
    print(f"torch {torch.__version__}, device {device}, threads {threads}")
    for model_name in args.models.split(","):
        results = {v: [] for v in ("fit", "dataloader", "slicing")}
        for _ in range(args.repeats):
            for variant in results:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", variant, model_name, device],
                    capture_output=True, text=True, check=True, cwd=HERE, env=env,
                )
                results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {v: statistics.median(r["seconds"] for r in rs) for v, rs in results.items()}
        mem = {v: statistics.median(r["peak_mb"] for r in rs) for v, rs in results.items()}
        for other in ("dataloader", "slicing"):
            ratios = sorted(a["seconds"] / b["seconds"] for a, b in zip(results["fit"], results[other]))
            print(
                f"{model_name}: fit {med['fit']:.3f} s vs {other} {med[other]:.3f} s -> ratio median "
                f"{statistics.median(ratios):.3f} (min {ratios[0]:.3f}, max {ratios[-1]:.3f}); "
                f"peak RSS {mem['fit']:.0f} MB vs {mem[other]:.0f} MB ({mem['fit'] / mem[other]:.2f}x)"
            )
            if device == "cpu":
                cpu = sorted(a["cpu_seconds"] / b["cpu_seconds"] for a, b in zip(results["fit"], results[other]))
                print(
                    f"{model_name}: CPU time fit / {other} ratio median {statistics.median(cpu):.3f} "
                    f"(min {cpu[0]:.3f}, max {cpu[-1]:.3f})"
                )


if __name__ == "__main__":
    main()
