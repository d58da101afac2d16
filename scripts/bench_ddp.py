"""Step time of data-parallel `fit` vs a hand-written DDP loop on the same MLP (784-64-64-10).

Starts `--procs` processes of a `torch.distributed` group (gloo on CPU, NCCL with `--device
cuda`, all processes sharing GPU 0 is fine for overhead), each running, interleaved and repeated:
- `fit`: `model.fit(x, y, batch_size=global_batch, epochs=1, shuffle=False)`;
- `loop`: `DistributedDataParallel(TorchMLP())` stepping over the same per-rank slices with
  RMSprop and cross-entropy.
Rank 0 prints the median epoch times and the ratio fit / loop (goal <= 1.05).

With `--jit` (one process, no process group): `fit` with `jit_compile=True` vs eager `fit`, epoch
times of the MLP and the guide's toy ResNet: the first epoch (includes `torch.compile`) and the
steady state (median of the later epochs), each timed by a callback at epoch boundaries.

Usage: python scripts/bench_ddp.py [--procs 2] [--samples 12800] [--batch 256] [--repeats 3]
       [--device cpu|cuda]
       python scripts/bench_ddp.py --jit [--models mlp,resnet] [--epochs 4] [--device cpu|cuda]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _worker(args):
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    sys.path.insert(0, HERE)
    import keraslike as keras
    from bench_common import TorchMLP, keras_mlp

    torch.set_num_threads(1)
    keras.distribution.initialize()
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", torch.cuda.current_device()) if args.device == "cuda" else torch.device("cpu")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.samples, 784, generator=g)
    y = torch.randint(0, 10, (args.samples,), generator=g)

    model = keras_mlp()
    model.compile(keras.optimizers.RMSprop(), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[: args.batch * 2], y[: args.batch * 2], batch_size=args.batch, epochs=1, verbose=0)

    net = torch.nn.parallel.DistributedDataParallel(
        TorchMLP().to(device), device_ids=[device.index] if args.device == "cuda" else None
    )
    optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    xd, yd = x.to(device), y.to(device)

    def loop():
        for start in range(0, args.samples, args.batch):
            xb, yb = xd[start : start + args.batch], yd[start : start + args.batch]
            part = torch.tensor_split(torch.arange(xb.shape[0]), world)[rank]
            loss = F.cross_entropy(net(xb[part]), yb[part])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def fit():
        model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)

    times = {"fit": [], "loop": []}
    for _ in range(args.repeats):
        for name, fn in (("fit", fit), ("loop", loop)):
            dist.barrier()
            if args.device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if args.device == "cuda":
                torch.cuda.synchronize()
            dist.barrier()
            times[name].append(time.perf_counter() - start)
    if rank == 0:
        fit_s, loop_s = statistics.median(times["fit"]), statistics.median(times["loop"])
        ratios = [a / b for a, b in zip(times["fit"], times["loop"])]
        print(
            f"ddp {world} procs ({args.device}): fit {fit_s:.3f} s vs hand-written DDP loop {loop_s:.3f} s "
            f"per epoch -> ratio median {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f}); fastest epochs {min(times['fit']):.3f} s "
            f"vs {min(times['loop']):.3f} s -> {min(times['fit']) / min(times['loop']):.3f}"
        )
    dist.destroy_process_group()


def _jit_vs_eager(args):
    import numpy as np
    import torch

    sys.path.insert(0, HERE)
    import keraslike as keras
    from bench_common import keras_mlp, keras_toy_resnet

    torch.set_num_threads(args.threads) if args.threads else None
    device = args.device

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            if device == "cuda":
                torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if device == "cuda":
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.start)

    rng = np.random.default_rng(0)
    for name in args.models.split(","):
        samples = args.samples if name == "mlp" else args.resnet_samples
        batch = args.batch if name == "mlp" else 64
        samples -= samples % batch  # full batches only: one compiled graph
        shape = (784,) if name == "mlp" else (32, 32, 3)
        x = rng.random((samples,) + shape, dtype=np.float32)
        y = rng.integers(0, 10, samples)
        row = {}
        for jit in (False, True):
            keras.backend.clear_session()
            torch._dynamo.reset()
            model = keras_mlp() if name == "mlp" else keras_toy_resnet()
            if device == "cuda":
                model.to("cuda")
            model.compile(keras.optimizers.RMSprop(),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          jit_compile=jit)
            timer = EpochTimer()
            model.fit(x, y, batch_size=batch, epochs=args.epochs, shuffle=False, verbose=0,
                      callbacks=[timer])
            row[jit] = (timer.times[0], statistics.median(timer.times[1:]), timer.times[1:])
        (e_first, e_steady, e_all), (j_first, j_steady, j_all) = row[False], row[True]
        print(
            f"{name} ({device}, {samples} samples, batch {batch}): eager first epoch {e_first:.3f} s, "
            f"steady {e_steady:.3f} s | jit_compile first epoch {j_first:.3f} s, steady {j_steady:.3f} s "
            f"-> steady jit/eager {j_steady / e_steady:.3f} "
            f"(jit later epochs {min(j_all):.3f}-{max(j_all):.3f} s, eager {min(e_all):.3f}-{max(e_all):.3f} s)"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=12800)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--jit", action="store_true", help="jit_compile=True vs eager fit per epoch")
    parser.add_argument("--models", default="mlp,resnet")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--resnet-samples", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=0, help="torch threads for --jit (0: default)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jit:
        _jit_vs_eager(args)
        return
    if args.worker:
        _worker(args)
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(args.procs):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(args.procs),
                   WORLD_SIZE=str(args.procs), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker"] + sys.argv[1:], env=env))
    codes = [p.wait(timeout=1800) for p in procs]
    sys.exit(max(codes))


if __name__ == "__main__":
    main()
