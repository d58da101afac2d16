"""Step time of keraslike's Adafactor, Lamb, Ftrl, Muon, ScheduleFreeAdamW and the wrapper
optimizers against the nearest `torch.optim` optimizer.

torch has none of them: Adafactor and Lamb are compared with `torch.optim.Adam` (Lamb is Adam plus
a per-variable trust ratio, so the ratio shows that extra cost; Adafactor loops per variable), Ftrl with `torch.optim.Adagrad` (both keep a squared
gradient accumulator). Muon is compared with `torch.optim.Muon` (torch >= 2.9; same
Newton-Schulz quintic, 5 steps) on the matrices only, as torch's takes only 2-D parameters;
ScheduleFreeAdamW with `torch.optim.AdamW`; LossScaleOptimizer(Adam) and MultiOptimizer (all
variables to one Adam) with `torch.optim.Adam`, so their ratios show the wrappers' cost (the loss
scale optimizer's finiteness check and its one host read per step). Both sides use foreach kernels and update the same parameters (a stack of
Linear layers) from the same gradients; no loss or backward is timed. Timings are interleaved and
noisy on a shared machine: read the min-max of the ratios, run it twice.

    python scripts/bench_optimizers.py [--layers 20] [--width 256] [--repeats 15] [--device cpu|cuda]
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from bench_common import paired_timings, ratio_report  # noqa: E402

import keraslike  # noqa: E402

PAIRS = [
    ("Adafactor", {}, torch.optim.Adam, {"lr": 1e-3, "eps": 1e-7, "foreach": True}),
    ("Lamb", {}, torch.optim.Adam, {"lr": 1e-3, "eps": 1e-7, "foreach": True}),
    ("Ftrl", {"learning_rate": 0.01}, torch.optim.Adagrad,
     {"lr": 0.01, "initial_accumulator_value": 0.1, "foreach": True}),
    ("Muon", {"rms_rate": None, "weight_decay": None}, getattr(torch.optim, "Muon", None),
     {"lr": 1e-3, "weight_decay": 0.0}),
    ("ScheduleFreeAdamW", {}, torch.optim.AdamW, {"lr": 2.5e-3, "eps": 1e-8, "foreach": True}),
    ("LossScaleOptimizer", {}, torch.optim.Adam, {"lr": 1e-3, "eps": 1e-7, "foreach": True}),
    ("MultiOptimizer", {}, torch.optim.Adam, {"lr": 1e-3, "eps": 1e-7, "foreach": True}),
]

# Optimizers that wrap another: how to build ours from the plain one.
WRAPPED = {
    "LossScaleOptimizer": lambda: keraslike.optimizers.LossScaleOptimizer(
        keraslike.optimizers.Adam()),
    "MultiOptimizer": lambda: keraslike.optimizers.MultiOptimizer(
        keraslike.optimizers.OptimizerMap(keraslike.optimizers.Adam())),
}


def _params(layers, width, device, matrices_only=False):
    torch.manual_seed(0)
    params = []
    for _ in range(layers):
        params.append(torch.nn.Parameter(torch.randn(width, width, device=device) * 0.05))
        if not matrices_only:
            params.append(torch.nn.Parameter(torch.zeros(width, device=device)))
    for p in params:
        p.grad = torch.randn_like(p) * 0.01
    return params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    for name, kwargs, torch_cls, torch_kwargs in PAIRS:
        if torch_cls is None:
            print(f"{name}: skipped (this torch has no torch.optim counterpart)")
            continue
        matrices_only = name == "Muon"
        ours_params = _params(args.layers, args.width, args.device, matrices_only)
        theirs_params = _params(args.layers, args.width, args.device, matrices_only)
        ours = WRAPPED[name]() if name in WRAPPED else getattr(keraslike.optimizers, name)(**kwargs)
        ours.build(ours_params)
        theirs = torch_cls(theirs_params, **torch_kwargs)

        def step_ours():
            ours.step()
            sync()

        def step_theirs():
            theirs.step()
            sync()

        times_ours, times_theirs = paired_timings(step_ours, step_theirs, repeats=args.repeats)
        print(ratio_report(f"{name} vs torch.optim.{torch_cls.__name__}", times_ours, times_theirs))


if __name__ == "__main__":
    main()
