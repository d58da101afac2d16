"""Peak memory while loading: within 1.5x the weights' size plus a constant, in every format.

Each case runs in a process of its own (a freed heap would hide allocations from the next case),
forked from one that has imported everything: it loads a tiny model of the same format first
(first-use caches), then measures the growth of the peak resident memory (`VmHWM`, reset through
`/proc/self/clear_refs`) while loading a 32 MB model.
For `load_model` the growth includes the loaded model itself; for `load_weights` the model exists
before (its memory is in the baseline).
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

_ROOT = pathlib.Path(__file__).parents[2]
_CONSTANT_MB = 16

_PROBE = textwrap.dedent(
    """
    import ctypes, gc, json, os, sys
    import numpy as np, torch
    torch.set_num_threads(1)
    import keraslike as keras

    def status(key):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

    def model(width):
        return keras.Sequential([keras.Input((width,)), keras.layers.Dense(2 * width),
                                 keras.layers.Dense(2 * width), keras.layers.Dense(width)])

    def write_legacy(path, m):
        import h5py
        with h5py.File(path, "w") as f:
            f.attrs["keras_version"] = "2.12.0"
            f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {
                "name": "sequential", "layers": [keras.saving.serialize_keras_object(l)
                                                 for l in m.layers]}})
            g = f.create_group("model_weights")
            g.attrs["layer_names"] = [l.name.encode() for l in m.layers]
            for layer in m.layers:
                lg = g.create_group(layer.name)
                names = [f"{layer.name}/{w}:0" for w in ("kernel", "bias")]
                lg.attrs["weight_names"] = [n.encode() for n in names]
                for n, a in zip(names, layer.get_weights()):
                    lg.create_dataset(n, data=a)

    def case(folder, kind, suffix):
        for name, width in (("tiny", 4), ("big", 1024)):
            m = model(width)
            path = os.path.join(folder, name + suffix)
            if kind == "legacy":
                write_legacy(path, m)
            elif kind == "weights":
                m.save_weights(path)
            else:
                m.save(path)
        weights_bytes = sum(p.numel() * 4 for p in m.parameters())
        del m
        tiny = os.path.join(folder, "tiny" + suffix)
        if kind == "weights":
            model(4).load_weights(tiny)
        else:
            keras.models.load_model(tiny)(torch.zeros(1, 4))  # first-use caches, not measured
        target = model(1024) if kind == "weights" else None
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size
        base = status("VmRSS:")
        if kind == "weights":
            target.load_weights(os.path.join(folder, "big" + suffix))
        else:
            target = keras.models.load_model(os.path.join(folder, "big" + suffix))
        return {"grown": status("VmHWM:") - base, "weights": weights_bytes}

    folder = sys.argv[1]
    for kind, suffix in json.loads(sys.argv[2]):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a fresh heap for each case, with everything imported
            os.close(read)
            try:
                os.makedirs(os.path.join(folder, kind + suffix))
                result = case(os.path.join(folder, kind + suffix), kind, suffix)
            except BaseException as error:
                result = {"error": repr(error)}
            os.write(write, json.dumps(result).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            result = json.loads(pipe.read() or '{"error": "the case died"}')
        os.waitpid(pid, 0)
        print(json.dumps({"case": kind + suffix, **result}), flush=True)
    """
)

_CASES = [
    ("model", ".safetensors"),
    ("model", ".keras"),
    ("legacy", ".h5"),
    ("weights", ".weights.h5"),
    ("weights", ".weights.safetensors"),
]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux's /proc/self/clear_refs")
    folder = tmp_path_factory.mktemp("load_memory")
    env = dict(os.environ, OMP_NUM_THREADS="1", KERAS_BACKEND="torch",
               PYTHONPATH=str(_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", _PROBE, str(folder), json.dumps(_CASES)],
                         capture_output=True, text=True, timeout=240, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return {r["case"]: r for r in map(json.loads, out.stdout.strip().splitlines())}


@pytest.mark.slow  # one process forked per format: ~20 s in all
@pytest.mark.parametrize("kind, suffix", _CASES)
def test_load_peak_memory_is_bounded_by_the_weights(measured, kind, suffix):
    result = measured[kind + suffix]
    assert "error" not in result, result
    weights, grown = result["weights"], result["grown"]
    assert weights > 30 * 2**20  # a few tens of MB: the constant is small beside it
    bound = 1.5 * weights + _CONSTANT_MB * 2**20
    assert grown <= bound, f"{kind} {suffix}: grew {grown / 2**20:.1f} MB, bound {bound / 2**20:.1f} MB " \
                           f"({grown / weights:.2f}x the weights)"
