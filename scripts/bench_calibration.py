"""Time of GPTQ / AWQ on one square Dense layer: keraslike vs Keras 3 (torch backend).

Usage: `python scripts/bench_calibration.py [--sizes 256 1024] [--rows 512] [--group-size 128]
[--repeats 3] [--threads 1] [--device cpu|cuda]`

Each measurement is the quantization step of one layer (`GPTQ.quantize_and_correct_layer`,
`AWQ.quantize_layer`) after the same calibration inputs were folded in, in each library; the
Hessian/statistics accumulation is excluded. Reported: the minimum over `--repeats` fresh layers,
and the Keras / keraslike ratio. Keras runs on the CPU only here (`--device` moves keraslike's
layer). On a shared machine the figures are noisy: compare the ratio within one run.
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import keraslike  # noqa: E402
from keraslike.quantizers.awq import AWQ  # noqa: E402
from keraslike.quantizers.gptq import GPTQ  # noqa: E402


def _time_ours(algorithm, n, x, group_size, device):
    layer = keraslike.layers.Dense(n)
    layer.build((None, n))
    layer.to(device)
    config_class = keraslike.quantizers.GPTQConfig if algorithm == "gptq" else (
        keraslike.quantizers.AWQConfig)
    config = config_class(None, None, group_size=group_size)
    layer.quantize(algorithm, config=config)
    state = (GPTQ if algorithm == "gptq" else AWQ)(layer, config)
    inputs = torch.as_tensor(x, device=device)
    if algorithm == "gptq":
        state.update_hessian_with_batch(inputs)
        run = state.quantize_and_correct_layer
    else:
        state.update_activation_magnitudes(inputs)
        run = state.quantize_layer
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    run()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _time_keras(algorithm, n, x, group_size):
    import keras  # noqa: PLC0415  (the oracle: optional, only for the comparison)
    from keras.src.quantizers.awq import AWQ as KerasAWQ  # noqa: PLC0415
    from keras.src.quantizers.gptq import GPTQ as KerasGPTQ  # noqa: PLC0415

    layer = keras.layers.Dense(n)
    layer.build((None, n))
    config_class = keras.quantizers.GPTQConfig if algorithm == "gptq" else keras.quantizers.AWQConfig
    config = config_class(None, None, group_size=group_size)
    layer.quantize(algorithm, config=config)
    if algorithm == "gptq":
        state = KerasGPTQ(layer, config)
        state.update_hessian_with_batch(x)
        run = state.quantize_and_correct_layer
    else:
        state = KerasAWQ(layer, config)
        state.update_activation_magnitudes(x)
        run = state.quantize_layer
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--rows", type=int, default=512, help="calibration rows")
    parser.add_argument("--group-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{'layer':>12} {'algo':>5} {'keras s':>9} {'keraslike s':>12} {'ratio':>7}")
    for n in args.sizes:
        x = np.random.default_rng(0).standard_normal((args.rows, n)).astype("float32")
        for algorithm in ("gptq", "awq"):
            ours = min(_time_ours(algorithm, n, x, args.group_size, args.device)
                       for _ in range(args.repeats))
            theirs = min(_time_keras(algorithm, n, x, args.group_size)
                         for _ in range(args.repeats))
            print(f"{n:>5}x{n:<6} {algorithm:>5} {theirs:9.3f} {ours:12.3f} "
                  f"{theirs / ours:6.1f}x")


if __name__ == "__main__":
    main()
