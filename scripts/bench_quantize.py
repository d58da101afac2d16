"""Memory and inference latency of a ~100M-parameter Dense stack, float32 vs int8 / int4 / float8.

Usage: `python scripts/bench_quantize.py [--width 5000] [--depth 4] [--batch 16] [--repeats 5]
[--device cpu|cuda] [--threads N]`

Kernel memory is the exact byte count of the weights the model holds (`state_dict`); latency is
the wall time of one forward pass under `torch.inference_mode`, repeated and reported as
median (min-max); on CUDA the device is synchronized before and after each pass. The `kernels`
column counts the quantized kernels one forward pass ran (`torch._int_mm` for int8 x int8,
`torch._scaled_mm` for float8): on CUDA `_int_mm` needs more than 16 rows (use `--batch 32` or
more) and `_scaled_mm` a GPU of compute capability 8.9+; a 0 there means the dequantize-then-
matmul fallback ran. On a shared machine, latencies are noisy: compare the modes of one run.
"""

import argparse
import contextlib
import statistics
import time

import torch

import keraslike as keras

MODES = [
    ("float32", None, None),
    ("int8 (dynamic int8 activations)", "int8", None),
    ("int8 (weight-only)", "int8", keras.quantizers.Int8QuantizationConfig(activation_quantizer=None)),
    ("int4 (per channel)", "int4", keras.quantizers.Int4QuantizationConfig(block_size=-1)),
    ("int4 (groups of 128)", "int4", None),
    ("float8 (e4m3, delayed scaling)", "float8", None),
]
_KERNELS = ("_int_mm", "_scaled_mm")


def build(width, depth):
    torch.manual_seed(0)
    layers = [keras.Input(shape=(width,))]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    return keras.Sequential(layers)


def weight_bytes(model):
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def kernel_bytes(model):
    total = 0
    for layer in model.layers:
        for spec in layer._weight_specs:
            if spec.name == "kernel":
                tensor = layer._find_tensor(spec.attr)
                total += tensor.numel() * tensor.element_size()
    return total


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def latency(model, x, repeats):
    times = []
    with torch.inference_mode():
        model(x)  # warm-up
        for _ in range(repeats):
            _sync(x.device)
            start = time.perf_counter()
            model(x)
            _sync(x.device)
            times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


@contextlib.contextmanager
def counting_kernels(counts):
    """Counts calls of torch's quantized matmul kernels (looked up on `torch` at call time)."""
    originals = {name: getattr(torch, name) for name in _KERNELS if hasattr(torch, name)}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)  # a refused shape raises: the fallback runs, uncounted
            counts[name] = counts.get(name, 0) + 1
            return result
        return wrapper

    for name, fn in originals.items():
        setattr(torch, name, counted(name, fn))
    try:
        yield counts
    finally:
        for name, fn in originals.items():
            setattr(torch, name, fn)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=5000)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    x = torch.randn(args.batch, args.width, device=device)
    reference = None
    base = None
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else (
        f"CPU, torch threads {torch.get_num_threads()}")
    print(f"Dense stack: {args.depth} x Dense({args.width}), "
          f"{args.depth * (args.width * args.width + args.width) / 1e6:.1f}M parameters; "
          f"batch {args.batch}; {where}; torch {torch.__version__}")
    print(f"{'mode':34s} {'weights MB':>10s} {'kernels MB':>10s} {'ratio':>6s} "
          f"{'latency ms (min-max)':>24s} {'speed-up':>8s} {'max |err| / max |y|':>20s} kernels")
    for label, mode, config in MODES:
        model = build(args.width, args.depth)
        if mode is not None:
            model.quantize(mode, config=config)
        model.to(device)
        with torch.inference_mode(), counting_kernels({}) as counts:
            y = model(x)
        if reference is None:
            reference = y
        err = float((y - reference).abs().max() / reference.abs().max())
        med, lo, hi = latency(model, x, args.repeats)
        if base is None:
            base = (kernel_bytes(model), med)
        ran = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items())) or "-"
        print(f"{label:34s} {weight_bytes(model) / 1e6:10.1f} {kernel_bytes(model) / 1e6:10.1f} "
              f"{base[0] / kernel_bytes(model):6.2f} {med * 1e3:9.1f} ({lo * 1e3:.1f}-{hi * 1e3:.1f})"
              f" {base[1] / med:8.2f} {err:20.4f} {ran}")
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
