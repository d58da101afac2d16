"""Forward-pass overhead of a built keraslike Model against the hand-written nn.Module.

Prints, for the MLP 784-64-64-10 (functional, and subclassed with its Dense layers called in
`call`), a chain of 50 Dense(32) and the guide's toy ResNet, at batch 1 and 256, the median time
per forward and the paired ratio (ours / hand-written, goal <= 1.05).
Then graph building time for a 1,000-layer chain, its summary() time, and a torch.compile check.

Usage: python scripts/bench_forward.py [--device cuda] [--quick]
"""

import argparse
import sys
import time

import torch

from bench_common import (
    TorchChain,
    TorchMLP,
    TorchToyResNet,
    copy_weights,
    keras_chain,
    keras_mlp,
    keras_subclassed_mlp,
    keras_toy_resnet,
    paired_timings,
    ratio_report,
)

import keraslike as keras
from keraslike import layers


def bench_models(device, repeats, clock=time.perf_counter):
    cases = [
        ("mlp", keras_mlp, TorchMLP, (784,)),
        ("subclassed_mlp", keras_subclassed_mlp, TorchMLP, (784,)),
        ("chain50", keras_chain, TorchChain, (32,)),
        ("toy_resnet", keras_toy_resnet, TorchToyResNet, (32, 32, 3)),
    ]
    for name, make_ours, make_theirs, shape in cases:
        ours = make_ours().to(device).eval()
        theirs = make_theirs().to(device).eval()
        copy_weights(ours, theirs)
        for batch in (1, 256):
            x = torch.randn((batch,) + shape, device=device)
            with torch.no_grad():
                diff = (ours(x) - theirs(x)).abs().max().item()
                assert diff < 1e-4, f"{name}: outputs differ by {diff}"

                def run(model):
                    out = model(x)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    return out

                t_ours, t_theirs = paired_timings(lambda: run(ours), lambda: run(theirs), repeats, clock=clock)
            print(ratio_report(f"{name} batch {batch}", t_ours, t_theirs), flush=True)


def bench_build():
    keras.backend.clear_session()
    limit = sys.getrecursionlimit()
    start = time.perf_counter()
    inputs = keras.Input(shape=(16,))
    x = inputs
    for _ in range(1000):
        x = layers.Dense(16)(x)
    model = keras.Model(inputs, x)
    built = time.perf_counter() - start
    start = time.perf_counter()
    lines = []
    model.summary(print_fn=lines.append)
    summarized = time.perf_counter() - start
    print(
        f"1,000-layer Dense(16) chain: build {built:.3f} s (goal < 0.25), summary {summarized:.3f} s "
        f"(goal < 0.1), recursion limit untouched: {sys.getrecursionlimit() == limit}"
    )


def bench_compile(device):
    for name, make in (("mlp", keras_mlp), ("chain50", keras_chain), ("toy_resnet", keras_toy_resnet)):
        model = make().to(device).eval()
        shape = {"mlp": (784,), "chain50": (32,), "toy_resnet": (32, 32, 3)}[name]
        x = torch.randn((4,) + shape, device=device)
        torch._dynamo.reset()
        explanation = torch._dynamo.explain(model)(x)
        compiled = torch.compile(model, fullgraph=True)
        with torch.no_grad():
            diff = (compiled(x) - model(x)).abs().max().item()
        print(
            f"torch.compile {name}: graph breaks {explanation.graph_break_count}, "
            f"graphs {explanation.graph_count}, max |compiled - eager| {diff:.2e}"
        )


def bench_compiled_timing(device, repeats, clock):
    """Compiled forward (`torch.compile(fullgraph=True)`) of ours vs the compiled hand-written
    module, MLP and toy ResNet at batch 1 (goal: ratio <= 1.1)."""
    for name, make_ours, make_theirs, shape in (
        ("mlp", keras_mlp, TorchMLP, (784,)),
        ("subclassed_mlp", keras_subclassed_mlp, TorchMLP, (784,)),
        ("toy_resnet", keras_toy_resnet, TorchToyResNet, (32, 32, 3)),
    ):
        ours = make_ours().to(device).eval()
        theirs = make_theirs().to(device).eval()
        copy_weights(ours, theirs)
        x = torch.randn((1,) + shape, device=device)
        # What dynamo checks before each compiled call (its guards), ours vs hand-written.
        guards = []
        for model in (ours, theirs):
            torch._dynamo.reset()
            guards.append(len(torch._dynamo.explain(model)(x).out_guards))
        print(f"compiled {name}: dynamo guards ours {guards[0]}, hand-written {guards[1]}", flush=True)
        torch._dynamo.reset()
        compiled_ours = torch.compile(ours, fullgraph=True)
        compiled_theirs = torch.compile(theirs, fullgraph=True)
        with torch.no_grad():
            diff = (compiled_ours(x) - compiled_theirs(x)).abs().max().item()
            assert diff < 1e-4, f"{name}: compiled outputs differ by {diff}"

            def run(model):
                out = model(x)
                if device == "cuda":
                    torch.cuda.synchronize()
                return out

            t_ours, t_theirs = paired_timings(
                lambda: run(compiled_ours), lambda: run(compiled_theirs), repeats, clock=clock
            )
            print(ratio_report(f"compiled {name} batch 1", t_ours, t_theirs), flush=True)
            # Diagnostic: the same calls with dynamo's guard evaluation skipped (unsafe: never
            # for real use). What the ratio loses here is the cost of evaluating the guards.
            with torch.compiler.set_stance(skip_guard_eval_unsafe=True):
                t_ours, t_theirs = paired_timings(
                    lambda: run(compiled_ours), lambda: run(compiled_theirs), repeats, clock=clock
                )
            print(ratio_report(f"  {name} without guard evaluation", t_ours, t_theirs), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--compile-timing", action="store_true", help="also time compiled forwards (slow to compile)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (1 resists neighbours)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    # One CPU thread: the thread's CPU time (resists neighbours); otherwise wall time.
    one_cpu_thread = args.device == "cpu" and torch.get_num_threads() == 1
    bench_models(args.device, 5 if args.quick else 15, time.thread_time if one_cpu_thread else time.perf_counter)
    bench_build()
    if not args.no_compile:
        bench_compile(args.device)
    if args.compile_timing:
        bench_compiled_timing(
            args.device, 5 if args.quick else 15, time.thread_time if one_cpu_thread else time.perf_counter
        )


if __name__ == "__main__":
    main()
