"""Benchmark: forward + backward of keraslike's LSTM against torch.nn.LSTM of the same size.

Both run in the same process on the same data with the same weights (the keraslike layer's
`state_dict()` loads into `nn.LSTM` as is); the timings are interleaved (ours, torch, ours,
torch, ...) so a busy neighbour slows both alike, and the script prints the median and the
min-max of the per-repeat time ratios. CUDA when available, else CPU.

    python scripts/bench_lstm.py [--batch 64] [--steps 50] [--features 32] [--units 128]
        [--repeats 15] [--iters 10] [--layer LSTM|GRU] [--mask] [--threads N]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

import keraslike as keras  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--layer", choices=["LSTM", "GRU"], default="LSTM")
    parser.add_argument("--mask", action="store_true",
                        help="right-padded mask (ours: packed fused kernel; torch: packed nn.LSTM)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser.parse_args()


def make_pair(args, device):
    ours = getattr(keras.layers, args.layer)(args.units, return_sequences=True)
    ours(torch.zeros(1, 2, args.features))  # build
    torch_cls = torch.nn.LSTM if args.layer == "LSTM" else torch.nn.GRU
    theirs = torch_cls(args.features, args.units, batch_first=True)
    state = ours.state_dict()
    if args.layer == "GRU":  # our GRU keeps nn.GRU's two biases as the rows of one (2, 3u) tensor
        bias = state.pop("bias")
        state.update(bias_ih_l0=bias[0], bias_hh_l0=bias[1])
    theirs.load_state_dict(state)
    ours.train()
    theirs.train()
    return ours.to(device), theirs.to(device)


def main():
    args = parse_args()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ours, theirs = make_pair(args, device)
    x = torch.randn(args.batch, args.steps, args.features, device=device)
    mask = lengths = None
    if args.mask:
        lengths = torch.randint(args.steps // 2, args.steps + 1, (args.batch,))
        lengths[0] = args.steps
        mask = (torch.arange(args.steps)[None, :] < lengths[:, None]).to(device)

    def run_ours():
        out = ours(x, mask=mask) if mask is not None else ours(x)
        out.sum().backward()
        return out

    def run_torch():
        if lengths is None:
            out = theirs(x)[0]
        else:
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                             enforce_sorted=False)
            out = torch.nn.utils.rnn.pad_packed_sequence(theirs(packed)[0], batch_first=True,
                                                         total_length=args.steps)[0]
        out.sum().backward()
        return out

    if lengths is None:
        with torch.no_grad():  # same weights, same function
            diff = (ours(x) - theirs(x)[0]).abs().max().item()
        print(f"max |ours - torch| on outputs: {diff:.2e}")

    def timed(fn):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(args.iters):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / args.iters

    for _ in range(3):  # warm-up
        timed(run_ours)
        timed(run_torch)
    ours_times, torch_times, ratios = [], [], []
    for r in range(args.repeats):
        if r % 2 == 0:
            t_ours, t_torch = timed(run_ours), timed(run_torch)
        else:
            t_torch, t_ours = timed(run_torch), timed(run_ours)
        ours_times.append(t_ours)
        torch_times.append(t_torch)
        ratios.append(t_ours / t_torch)

    print(
        f"{args.layer} fwd+bwd  batch={args.batch} steps={args.steps} in={args.features} "
        f"units={args.units} mask={'right-padded' if args.mask else 'none'} device={device} "
        f"threads={torch.get_num_threads()}"
    )
    print(f"  keraslike : median {statistics.median(ours_times) * 1e3:8.3f} ms/iter")
    print(f"  torch.nn  : median {statistics.median(torch_times) * 1e3:8.3f} ms/iter")
    print(
        f"  ratio keraslike/torch: median {statistics.median(ratios):.3f}  "
        f"min {min(ratios):.3f}  max {max(ratios):.3f}  ({args.repeats} interleaved repeats "
        f"of {args.iters} iters)"
    )


if __name__ == "__main__":
    main()
