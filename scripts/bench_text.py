"""Benchmark: `TextVectorization.adapt` + call on N short strings vs plain Python.

The reference does the same work with the standard library: standardize (lower-case, strip
punctuation), split on whitespace, `collections.Counter` for the vocabulary (Keras's order:
count, then token, descending), then a dict lookup per token into a zero-padded int64 tensor.
Both results are checked equal. Goal: ratio <= 1.0 (adapt, call, and both together).

Timings are interleaved (ours, reference, ours, ...) so a busy neighbour slows both alike; the
median and min-max of the per-repeat ratios are printed. Single-threaded torch by default.

    python scripts/bench_text.py [--strings 100000] [--repeats 5] [--threads 1]
"""

import argparse
import collections
import itertools
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import keraslike as keras  # noqa: E402

_PUNCT = str.maketrans("", "", "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'")
_WORDS = ("the a cat dog sat ran on mat big small red blue fast slow Hello World, again! it's "
          "over under Zebra quick brown fox jumps lazy").split()


def make_strings(n, seed=0):
    """`n` strings of 3-11 words drawn from a small vocabulary (with case and punctuation)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 12, size=n)
    picks = rng.integers(0, len(_WORDS), size=int(lengths.sum()))
    out, i = [], 0
    for length in lengths:
        out.append(" ".join(_WORDS[j] for j in picks[i:i + length]))
        i += length
    return out


def reference_adapt(texts):
    counts = collections.Counter(
        itertools.chain.from_iterable(s.lower().translate(_PUNCT).split() for s in texts))
    ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    return {t: i for i, t in enumerate(["", "[UNK]"] + [t for t, _ in ordered])}


def reference_call(index, texts):
    rows = [[index.get(t, 1) for t in s.lower().translate(_PUNCT).split()] for s in texts]
    width = max(map(len, rows))
    padded = np.zeros((len(rows), width), dtype=np.int64)
    for r, row in enumerate(rows):
        padded[r, :len(row)] = row
    return torch.from_numpy(padded)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _line(name, ours, ref):
    ratios = [a / b for a, b in zip(ours, ref)]
    return (f"{name}: ours {statistics.median(ours) * 1e3:.0f} ms, reference "
            f"{statistics.median(ref) * 1e3:.0f} ms, ratio median {statistics.median(ratios):.2f} "
            f"(min {min(ratios):.2f}, max {max(ratios):.2f}; goal <= 1.0)")


def bench_text(n, repeats):
    """Times adapt and call on `n` strings against the reference; prints three ratio lines."""
    texts = make_strings(n)
    times = {key: [] for key in ("adapt_ours", "adapt_ref", "call_ours", "call_ref")}
    for _ in range(repeats):
        layer = keras.layers.TextVectorization()
        t, _ = timed(lambda: layer.adapt(texts))
        times["adapt_ours"].append(t)
        t, index = timed(lambda: reference_adapt(texts))
        times["adapt_ref"].append(t)
        assert layer.get_vocabulary() == list(index), "vocabularies differ"
        t, out = timed(lambda: layer(texts))
        times["call_ours"].append(t)
        t, ref = timed(lambda: reference_call(index, texts))
        times["call_ref"].append(t)
        assert torch.equal(out, ref), "ids differ"
    print(f"TextVectorization on {n} short strings, torch threads={torch.get_num_threads()}, "
          f"{repeats} repeats")
    print(_line("adapt", times["adapt_ours"], times["adapt_ref"]))
    print(_line("call", times["call_ours"], times["call_ref"]))
    both_ours = [a + c for a, c in zip(times["adapt_ours"], times["call_ours"])]
    both_ref = [a + c for a, c in zip(times["adapt_ref"], times["call_ref"])]
    print(_line("adapt + call", both_ours, both_ref))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench_text(args.strings, args.repeats)


if __name__ == "__main__":
    main()
