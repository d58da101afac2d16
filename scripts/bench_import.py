"""Import time of `keraslike` against `import torch` (issue 15: within 1.2x; issue 17: 1.1x).

Each figure is a fresh interpreter, alternating `import torch` and `import keraslike` so a busy
machine slows both alike; the ratio is taken per pair and the median and min-max of the pairs
are reported. Bytecode is cached in a temporary `PYTHONPYCACHEPREFIX` (warmed by one unmeasured
run), since a user's installed package has its `.pyc` files: with `PYTHONDONTWRITEBYTECODE=1`
every run would recompile keraslike's ~300 modules from source. On a shared machine the CPU time
of the import statement (`time.process_time`) is the steadiest figure; wall times are printed too.

The CPU time of `import keraslike` after `import torch` is split in two: keraslike's own work
(measured with the garbage collector off) and the rest, which is one full collection of torch's
~170k objects that CPython 3.11 runs once the first ~10k objects survive after `import torch`
(any program reaches it soon after importing torch; keraslike's ~24k module-level objects reach
it during the import).

`--breakdown` prints `python -X importtime`'s heaviest modules that `import keraslike` adds on
top of torch: what to make lazy next.

Usage: `python scripts/bench_import.py [--repeats 9] [--breakdown]`
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

_PROGRAM = (
    "import time; t, c = time.perf_counter(), time.process_time(); import {module}; "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


_AFTER_TORCH = (
    "import gc, time, torch; {gc}c = time.process_time(); import keraslike; "
    "print(time.process_time() - c)"
)


def _after_torch(env, collector_on):
    """CPU seconds of `import keraslike` in a process that already imported torch."""
    program = _AFTER_TORCH.format(gc="" if collector_on else "gc.disable(); ")
    out = subprocess.run(
        [sys.executable, "-c", program], env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def _env(cache):
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache
    env.setdefault("KERAS_BACKEND", "torch")
    return env


def _time(module, env):
    """Seconds (fresh process): start to end of `import module`, the import's wall and CPU time."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM.format(module=module)], env=env, check=True,
        capture_output=True, text=True,
    )
    total = time.perf_counter() - start
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return total, float(wall), float(cpu)


def _breakdown(env, top=25):
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import keraslike"], env=env, check=True,
        capture_output=True, text=True,
    ).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), len(m[3]) // 2, m[4]))
    # `-X importtime` lists a module's imports before it, deeper indented: everything imported
    # while `import torch` ran counts as torch's.
    torch_names = set()
    for i, (_, _, depth, name) in enumerate(rows):
        if name == "torch":
            torch_names.add(name)
            j = i - 1
            while j >= 0 and rows[j][2] > depth:
                torch_names.add(rows[j][3])
                j -= 1
    own = [(s, name) for s, _, _, name in rows if name not in torch_names]
    print(f"keraslike's own modules and non-torch imports: {sum(s for s, _ in own) / 1e6:.3f} s "
          f"self time; torch and its submodules: "
          f"{sum(s for s, _, _, n in rows if n in torch_names) / 1e6:.3f} s")
    for self_us, name in sorted(own, reverse=True)[:top]:
        print(f"  {self_us / 1e3:8.1f} ms  {name}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = _env(cache)
        _time("keraslike", env)  # writes the bytecode cache
        pairs = []
        for _ in range(args.repeats):
            torch_s = _time("torch", env)
            keras_s = _time("keraslike", env)
            pairs.append((torch_s, keras_s))
        for label, index in (
            ("process start to end of import (wall)", 0),
            ("the import statement (wall)", 1),
            ("the import statement (CPU time, least disturbed by other processes)", 2),
        ):
            t = [p[0][index] for p in pairs]
            k = [p[1][index] for p in pairs]
            r = [b / a for a, b in zip(t, k)]
            print(f"{label}: torch {statistics.median(t):.3f} s, keraslike {statistics.median(k):.3f} s, "
                  f"ratio median {statistics.median(r):.2f} (min {min(r):.2f}, max {max(r):.2f}; "
                  f"{args.repeats} pairs)")
        with_gc = statistics.median(_after_torch(env, True) for _ in range(args.repeats))
        without = statistics.median(_after_torch(env, False) for _ in range(args.repeats))
        print(f"import keraslike after import torch (CPU): {with_gc:.3f} s, of which keraslike's "
              f"own work (collector off) {without:.3f} s and Python's full collection of torch's "
              f"objects {with_gc - without:.3f} s")
        if args.breakdown:
            _breakdown(env)


if __name__ == "__main__":
    main()
