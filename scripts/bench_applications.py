"""Forward time of keraslike's application models against Keras 3 (torch backend), the same
network written as plain PyTorch, and torchvision.

For ResNet50V2, EfficientNetB0, ConvNeXtTiny and MobileNetV3Small (random weights, copied from
the Keras 3 model so outputs can be compared), at batch 1 and 32, prints the median time per
forward (inference mode) and paired ratios (all models timed once per repeat, in an order
rotated every repeat; BatchNorm statistics randomized so no BN is an identity):
- ours / Keras 3 (goal: < 1);
- ours / hand-written torch (ResNet50V2, EfficientNetB0: scripts/handwritten_applications.py,
  `nn.Conv2d`/`nn.BatchNorm2d` on NCHW channels_last tensors as a PyTorch user writes them;
  issue 16's goal: <= 1.05), in both kernel layouts: contiguous (how both keep their kernels
  by default) and channels_last (after `module.to(memory_format=torch.channels_last)`, which
  saves torch's convolutions a kernel conversion per call; both modules take the same switch);
- ours / plain torch: the same network written out by `keraslike.export.to_torch_source` (one
  `nn.Module`, `nn.Conv2d`/`nn.BatchNorm`/`nn.Linear` and functional ops on channels-last
  activations, no keraslike at run time), with its "same" convolutions given torch's own
  symmetric padding where TensorFlow's padding is symmetric, as a hand-written module would
  (goal: <= 1.05-1.1);
- ours / torchvision's model of the same architecture (resnet50, efficientnet_b0,
  convnext_tiny, mobilenet_v3_small; channels_last) when torchvision is importable: its weights
  and some details differ (torchvision has no pre-activation ResNet: ResNet50 v1 stands in), so
  only the time is compared.
Timings on a shared machine are noisy: look at the ratios, run it twice. `--count-ops` also
prints the aten ops of one batch-1 forward of each (at batch 1 on a GPU the forward is bound by
launches and host overhead, so the op count is what decides it), with the most frequent ones.

Usage: python scripts/bench_applications.py [--size 224] [--batches 1 32] [--repeats 5]
    [--models ResNet50V2 ...] [--device cpu|cuda] [--threads 1] [--count-ops]
GPU: python scripts/bench_applications.py --device cuda --repeats 10 --count-ops
"""

import argparse
import collections
import copy
import os
import runpy
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import handwritten_applications  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import keraslike  # noqa: E402

# The thread's CPU time on one CPU thread (resists neighbours on a shared machine), else wall time.
CLOCK = [time.perf_counter]

TORCHVISION_NAMES = {
    "ResNet50V2": "resnet50",  # torchvision has no pre-activation ResNet; the v1 ResNet50 is the nearest
    "EfficientNetB0": "efficientnet_b0",
    "ConvNeXtTiny": "convnext_tiny",
    "MobileNetV3Small": "mobilenet_v3_small",
}


class _OpCounter(TorchDispatchMode):
    """Counts the aten ops dispatched while active (views and permutes included)."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[str(func.overloadpacket).replace("aten.", "")] += 1
        return func(*args, **(kwargs or {}))


def _count_ops(label, fn):
    with torch.inference_mode(), _OpCounter() as counter:
        fn()
    top = ", ".join(f"{name} {n}" for name, n in counter.counts.most_common(8))
    print(f"  {label}: {sum(counter.counts.values())} aten ops per b1 forward ({top})", flush=True)


def _torchvision_model(name, device):
    try:
        import torchvision
    except ImportError:
        return None
    return getattr(torchvision.models, TORCHVISION_NAMES[name])(weights=None).to(device).eval()


def _symmetric_same_conv(helpers):
    """The ejected module's `conv_channels_last` with torch's symmetric padding when TensorFlow's
    "same" padding is symmetric (what a hand-written module would pass to `nn.Conv2d`)."""
    same_pads, general = helpers["same_pads"], helpers["conv_channels_last"]

    def conv_channels_last(conv, x, padding="valid"):
        if padding != "same" or x.dim() != 4:
            return general(conv, x, padding)
        pads = same_pads(x.shape[1:3], conv.kernel_size, conv.stride, conv.dilation)
        if pads[0] != pads[1] or pads[2] != pads[3]:
            return general(conv, x, padding)
        y = F.conv2d(
            x.movedim(-1, 1), conv.weight, conv.bias, conv.stride, (pads[2], pads[0]), conv.dilation, conv.groups
        )
        return y.movedim(1, -1)

    return conv_channels_last


def _plain_torch(model, device):
    """`model` written as plain torch source by keraslike's ejection, loaded back."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ejected.py")
        keraslike.export.to_torch_source(model, path, verify=False)
        module = runpy.run_path(path)["load"](device=device)
    helpers = type(module).forward.__globals__
    helpers["conv_channels_last"] = _symmetric_same_conv(helpers)
    return module


def _keras_model(name, size):
    """Keras 3's model of that name with random weights, or None where Keras is not installed."""
    try:
        import keras
    except ImportError:
        return None
    keras.backend.clear_session()
    return getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))


def _timings(fns, repeats, clock, number=1):
    """Times each of `fns` (a dict) `number` calls per repeat, rotating the order every repeat
    (no one always runs first or after the same neighbour); returns the per-call times of each
    repeat."""
    names = list(fns)
    for fn in fns.values():  # warm-up (allocator, cuDNN/oneDNN kernel choice)
        fn()
    times = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for n in order:
            start = clock()
            for _ in range(number):
                fns[n]()
            times[n].append((clock() - start) / number)
    return times


def _report(label, ours, theirs):
    ratios = sorted(a / b for a, b in zip(ours, theirs))
    return (
        f"{label:<78} ours {statistics.median(ours) * 1e3:8.2f} ms  theirs {statistics.median(theirs) * 1e3:8.2f} ms"
        f"  ratio median {statistics.median(ratios):.3f} (min {ratios[0]:.3f}, max {ratios[-1]:.3f}, n {len(ratios)})"
    )


def bench(name, size, batches, repeats, device, count_ops=False):
    theirs = _keras_model(name, size)
    ours = getattr(keraslike.applications, name)(weights=None, input_shape=(size, size, 3))
    if theirs is not None:
        _randomize_batchnorm(theirs)
        ours.set_weights(theirs.get_weights())
    else:
        print(f"{name}: Keras 3 not installed, its comparison skipped", flush=True)
    try:
        plain = _plain_torch(ours, device)
    except ValueError as error:  # layers the ejection cannot write yet
        plain = None
        print(f"{name}: no plain-torch equivalent ({str(error).splitlines()[1][2:80]}...)", flush=True)
    hand = handwritten_applications.build(name, ours)
    hand_contiguous = ours_cl = None
    if hand is not None:
        hand = hand.to(device)
        hand_contiguous = copy.deepcopy(hand).to(memory_format=torch.contiguous_format)
        ours_cl = copy.deepcopy(ours).to(device, memory_format=torch.channels_last).eval()
    ours = ours.to(device).eval()
    theirs_tv = _torchvision_model(name, device)
    if theirs_tv is not None:
        theirs_tv = theirs_tv.to(memory_format=torch.channels_last)
    if device != "cpu" and theirs is not None:
        theirs = theirs.to(device)
    if count_ops:
        x1 = torch.rand(1, size, size, 3, device=device) * 255
        print(f"{name}:", flush=True)
        _count_ops("ours", lambda: ours(x1))
        if hand is not None:
            _count_ops("hand-written torch", lambda: hand(x1))
        if plain is not None:
            _count_ops("plain torch (ejected)", lambda: plain(x1))
        if theirs_tv is not None:
            x1_tv = x1.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
            _count_ops("torchvision", lambda: theirs_tv(x1_tv))
    for batch in batches:
        x_np = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
        x = torch.as_tensor(x_np, device=device)

        def sync(out):
            if device == "cuda":
                torch.cuda.synchronize()
            return out

        fns = {"ours": lambda: sync(ours(x))}
        with torch.inference_mode():
            got = ours(x)
            notes = {}
            if hand is not None:
                fns["hand-written torch"] = lambda: sync(hand_contiguous(x))
                notes["hand-written torch"] = (hand_contiguous(x) - got).abs().max().item()
                fns["ours, channels_last kernels"] = lambda: sync(ours_cl(x))
                fns["hand-written torch, channels_last kernels"] = lambda: sync(hand(x))
                notes["hand-written torch, channels_last kernels"] = (hand(x) - got).abs().max().item()
            if plain is not None:
                fns["plain torch (ejected)"] = lambda: sync(plain(x))
                notes["plain torch (ejected)"] = (plain(x) - got).abs().max().item()
            if theirs is not None:
                fns["Keras 3"] = lambda: sync(theirs(x, training=False))
                notes["Keras 3"] = (theirs(x, training=False) - got).abs().max().item()
            if theirs_tv is not None:
                x_nchw = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
                fns["torchvision"] = lambda: sync(theirs_tv(x_nchw))
            times = _timings(fns, repeats, CLOCK[0], number=1 if device == "cpu" else 10)
        for ref in fns:
            if ref.startswith("ours"):
                continue
            mine = "ours, channels_last kernels" if ref.endswith("channels_last kernels") else "ours"
            diff = f"  max|diff| {notes[ref]:.1e}" if ref in notes else "  (other weights)"
            label = f"{name} b{batch} {mine} vs {ref}"
            print(_report(label, times[mine], times[ref]) + diff, flush=True)
    if theirs_tv is None:
        print(f"{name}: torchvision not importable, skipped", flush=True)


def _randomize_batchnorm(model):
    """Non-trivial BatchNorm statistics (fresh ones make every BN an identity up to epsilon)."""
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            weights = layer.get_weights()
            layer.set_weights(
                [rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) if i in (0, 3) else
                 rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype) for i, w in enumerate(weights)]
            )  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(TORCHVISION_NAMES))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (1 resists neighbours)")
    parser.add_argument("--count-ops", action="store_true", help="print aten ops per batch-1 forward")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cpu" and torch.get_num_threads() == 1:
        CLOCK[0] = time.thread_time
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, size {args.size}")
    for name in args.models:
        bench(name, args.size, args.batches, args.repeats, args.device, args.count_ops)


if __name__ == "__main__":
    main()
