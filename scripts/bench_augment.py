"""Benchmark: preprocessing layers against the same work written directly.

- text: `TextVectorization.adapt` and a call (int output, padded) on N short strings vs a plain
  `collections.Counter` + dict lookup (goal <= 1x), measured by `bench_text.py`'s `bench_text`;
- augment: a `RandomFlip + RandomRotation + RandomZoom` stack on a batch of 256x32x32x3 images
  (training mode) vs the same ops written with torch (a flip, then one `affine_grid` +
  `grid_sample` resampling per geometric layer)
  (goal <= 1.2x). `--device cuda` (or `auto`: CUDA when available) runs it on the GPU, where
  these images are tiny and the cost is kernel launches: the layers take about as many kernels
  as the hand-written ops (one `affine_grid` + `grid_sample` per geometric layer, no host sync).

Timings are interleaved (ours, reference, ours, ...) so a busy neighbour slows both alike; the
script prints the median and min-max of the per-repeat ratios.

    python scripts/bench_augment.py [--part text|augment|all] [--strings 100000] [--repeats 5]
        [--device auto|cpu|cuda] [--threads N] [--batch 256] [--size 32]
"""

import argparse
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import keraslike as keras  # noqa: E402
from bench_text import bench_text  # noqa: E402  (scripts/ is on sys.path when run as a script)

def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(name, ratios, ours, ref, goal):
    print(
        f"{name}: ours {statistics.median(ours) * 1e3:.1f} ms, reference "
        f"{statistics.median(ref) * 1e3:.1f} ms, ratio median {statistics.median(ratios):.2f} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}; goal <= {goal})"
    )


def _affine(x, theta, padding):
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def torch_augment(images, generator):
    """Flip (one coin per image, both axes), rotation (factor 0.2) then zoom (0.2), each
    resampling with `grid_sample` (reflection padding), as the three layers do."""
    b, h, w, c = images.shape
    x = images.permute(0, 3, 1, 2)
    flip = torch.rand(b, 1, 1, 1, device=x.device, generator=generator) <= 0.5
    x = torch.where(flip, x.flip(3).flip(2), x)
    angle = (torch.rand(b, device=x.device, generator=generator) * 2 - 1) * 0.2 * 2 * math.pi
    cos, sin, zero = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)
    rotation = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    x = _affine(x, rotation, "reflection")
    zoom = 1 + (torch.rand(b, device=x.device, generator=generator) * 2 - 1) * 0.2
    scale = torch.stack([torch.stack([zoom, zero, zero], 1), torch.stack([zero, zoom, zero], 1)], 1)
    x = _affine(x, scale, "reflection")
    return x.permute(0, 2, 3, 1)


def bench_augment(repeats, device, batch=256, size=32):
    images = torch.rand(batch, size, size, 3, device=device)
    stack = keras.Sequential(
        [
            keras.layers.RandomFlip(seed=1),
            keras.layers.RandomRotation(0.2, seed=2),
            keras.layers.RandomZoom(0.2, seed=3),
        ]
    )
    stack.to(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def ours():
        out = stack(images, training=True)
        sync()
        return out

    def ref():
        out = torch_augment(images, generator)
        sync()
        return out

    for _ in range(3):
        ours(), ref()
    # As in `fit`: the model is in train mode (the first call built it, in eval mode, as Keras;
    # a `training=True` call on an eval-mode model walks every module twice to flip modes).
    stack.train()
    ratios, t_o, t_r = [], [], []
    for _ in range(repeats):
        a, _ = timed(lambda: [ours() for _ in range(10)])
        b, _ = timed(lambda: [ref() for _ in range(10)])
        ratios.append(a / b)
        t_o.append(a / 10)
        t_r.append(b / 10)
    name = f"RandomFlip+RandomRotation+RandomZoom {batch}x{size}x{size}x3 on {device.type}"
    report(name, ratios, t_o, t_r, "1.2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", default="all", choices=["text", "augment", "all"])
    parser.add_argument("--strings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave)")
    parser.add_argument("--batch", type=int, default=256, help="augment: images per batch")
    parser.add_argument("--size", type=int, default=32, help="augment: image height and width")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if args.part in ("text", "all"):
        bench_text(args.strings, args.repeats)
    if args.part in ("augment", "all"):
        bench_augment(args.repeats, device, args.batch, args.size)


if __name__ == "__main__":
    main()
