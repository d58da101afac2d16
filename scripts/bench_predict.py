"""Per-call cost of `predict_on_batch`, `predict` and `model(x)` on a numpy array at batch 1.

Against hand-written PyTorch in the same run: `module(torch.from_numpy(x))` (on the module's
device) plus the copy back to numpy (`.cpu().numpy()`) for the predict calls, and without the
copy back for `model(x)` (which returns a tensor, as in Keras). Goal: ratio <= 1.2.
Models: the MLP 784-64-64-10, 50 x Dense(32) and the guide's toy ResNet.

On one CPU thread the default clock is the thread's CPU time (`--clock wall` for wall time), which
resists neighbours on a shared machine; on CUDA it is wall time with a synchronize per call.

Usage: python scripts/bench_predict.py [--device cpu|cuda] [--threads 1] [--repeats 15]
"""

import argparse
import time

import numpy as np
import torch

from bench_common import (
    TorchChain,
    TorchMLP,
    TorchToyResNet,
    copy_weights,
    keras_chain,
    keras_mlp,
    keras_toy_resnet,
    paired_timings,
    ratio_report,
)

CASES = [
    ("mlp", keras_mlp, TorchMLP, (784,)),
    ("chain50", keras_chain, TorchChain, (32,)),
    ("toy_resnet", keras_toy_resnet, TorchToyResNet, (32, 32, 3)),
]


def bench(device, repeats, clock, batch=1):
    """Prints one line per (model, call)."""
    for name, make_ours, make_theirs, shape in CASES:
        ours = make_ours().to(device)
        theirs = make_theirs().to(device).eval()
        copy_weights(ours, theirs)
        x = np.random.default_rng(0).random((batch,) + shape, dtype=np.float32)

        def reference_predict():
            with torch.no_grad():
                return theirs(torch.from_numpy(x).to(device)).cpu().numpy()

        def reference_call():
            out = theirs(torch.from_numpy(x).to(device))
            if device == "cuda":
                torch.cuda.synchronize()
            return out

        def ours_call():
            out = ours(x)
            if device == "cuda":
                torch.cuda.synchronize()
            return out

        expected = reference_predict()
        for label, fn, ref in (
            ("predict_on_batch", lambda: ours.predict_on_batch(x), reference_predict),
            ("predict(verbose=0)", lambda: ours.predict(x, verbose=0), reference_predict),
            ("model(x)", ours_call, reference_call),
        ):
            got = fn()
            got = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else got
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
            t_ours, t_theirs = paired_timings(fn, ref, repeats, min_time=0.02, clock=clock)
            print(ratio_report(f"{name} {label} batch {batch}", t_ours, t_theirs), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (1 resists neighbours)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--clock", choices=("cpu", "wall"), default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    # CPU time counts this thread only: right for one thread, not for intra-op thread pools.
    clock_name = args.clock or ("cpu" if args.device == "cpu" and torch.get_num_threads() == 1 else "wall")
    clock = time.thread_time if clock_name == "cpu" else time.perf_counter
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, clock {clock_name}")
    bench(args.device, args.repeats, clock)


if __name__ == "__main__":
    main()
