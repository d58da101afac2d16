"""Forward time of keraslike's application models against Keras 3 (torch backend) and torchvision.

For ResNet50V2, EfficientNetB0, ConvNeXtTiny and MobileNetV3Small (random weights, copied from
the Keras 3 model so outputs can be compared), at batch 1 and 32, prints the median time per
forward (inference mode) and the paired ratio ours / Keras 3. torchvision's model of the same
architecture (resnet50, efficientnet_b0, convnext_tiny, mobilenet_v3_small) is timed too when
torchvision is importable (its weights differ: only the time is compared); otherwise that column
is skipped. Timings on a shared machine are noisy: look at the ratios, run it twice.

Usage: python scripts/bench_applications.py [--size 224] [--batches 1 32] [--repeats 5]
    [--models ResNet50V2 ...] [--device cpu|cuda]
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_common import paired_timings, ratio_report  # noqa: E402

import keraslike  # noqa: E402

TORCHVISION_NAMES = {
    "ResNet50V2": "resnet50",  # torchvision has no pre-activation ResNet; the v1 ResNet50 is the nearest
    "EfficientNetB0": "efficientnet_b0",
    "ConvNeXtTiny": "convnext_tiny",
    "MobileNetV3Small": "mobilenet_v3_small",
}


def _torchvision_model(name, device):
    try:
        import torchvision
    except ImportError:
        return None
    return getattr(torchvision.models, TORCHVISION_NAMES[name])(weights=None).to(device).eval()


def bench(name, size, batches, repeats, device):
    import keras

    keras.backend.clear_session()
    theirs = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))
    ours = getattr(keraslike.applications, name)(weights=None, input_shape=(size, size, 3))
    ours.set_weights(theirs.get_weights())
    ours = ours.to(device).eval()
    theirs_tv = _torchvision_model(name, device)
    if device != "cpu":
        theirs = theirs.to(device)
    for batch in batches:
        x_np = np.random.default_rng(0).uniform(0, 255, (batch, size, size, 3)).astype("float32")
        x = torch.as_tensor(x_np, device=device)
        with torch.inference_mode():
            got = ours(x)
            expected = theirs(x, training=False)
            diff = (got - expected).abs().max().item()

            def sync(out):
                if device == "cuda":
                    torch.cuda.synchronize()
                return out

            t_ours, t_keras = paired_timings(
                lambda: sync(ours(x)), lambda: sync(theirs(x, training=False)), repeats, min_time=0.0
            )
            print(ratio_report(f"{name} b{batch} vs Keras 3", t_ours, t_keras).replace("torch ", "keras "),
                  f" max|diff| {diff:.1e}", flush=True)  # fmt: skip
            if theirs_tv is not None:
                x_nchw = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
                tv = theirs_tv.to(memory_format=torch.channels_last)
                t_ours, t_tv = paired_timings(lambda: sync(ours(x)), lambda: sync(tv(x_nchw)), repeats, min_time=0.0)
                print(ratio_report(f"{name} b{batch} vs torchvision", t_ours, t_tv), flush=True)
    if theirs_tv is None:
        print(f"{name}: torchvision not importable, skipped", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(TORCHVISION_NAMES))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, size {args.size}")
    for name in args.models:
        bench(name, args.size, args.batches, args.repeats, args.device)


if __name__ == "__main__":
    main()
