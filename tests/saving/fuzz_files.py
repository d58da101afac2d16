"""A seeded generator of mutated model files, run by `test_fuzz.py` in a memory-limited process.

`python tests/saving/fuzz_files.py FOLDER SEED COUNT` writes a small model in four formats,
then loads COUNT mutants (safetensors header fields and config JSON, `.keras` members, h5
datasets, legacy `.h5` configs, attributes and datasets, flipped bytes, truncations). Each load must succeed or raise a `ValueError` /
`TypeError`; anything else (another exception type, an allocation past the memory limit) is
printed as `BAD <case> <type>: <message>`. The last line is `DONE <count> <bad>`.
"""

import copy
import json
import os
import random
import resource
import struct
import sys
import zipfile

_LIMIT_GROWTH = 1 << 30  # 1 GiB above what the process maps after its imports


def _limit_memory():
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + _LIMIT_GROWTH, resource.RLIM_INFINITY))


_VALUES = [
    None, True, -1, 0, 1, 3, 10**12, -(10**12), 2**63, 1e308, float("nan"), "", "x", "float64",
    "__numpy__", [], [None], [10**9, 10**9], {}, {"class_name": "Dense", "config": {}},
    {"class_name": "__lambda__", "config": {}}, {"class_name": "function", "config": "os.system"},
]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


def _mutate_json(rng, value):
    value = copy.deepcopy(value)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(value) if p]
        if not paths:
            return rng.choice(_VALUES)
        path = rng.choice(paths)
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        action = rng.random()
        if action < 0.6:
            parent[path[-1]] = copy.deepcopy(rng.choice(_VALUES))
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], int) and not isinstance(parent[path[-1]], bool):
            parent[path[-1]] = parent[path[-1]] * rng.choice([10**6, -1, 0])
        else:
            parent[path[-1]] = [copy.deepcopy(parent[path[-1]])] * rng.randint(0, 3)
    return value


def _safetensors_parts(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _write_safetensors(path, header, data):
    blob = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)


def _mutant_native(rng, src, dst):
    header, data = _safetensors_parts(src)
    kind = rng.random()
    if kind < 0.45:
        meta = header["__metadata__"]
        config = json.loads(meta["model_config"])
        meta["model_config"] = json.dumps(_mutate_json(rng, config))
        if rng.random() < 0.2 and "compile_config" in meta:
            meta["compile_config"] = json.dumps(_mutate_json(rng, json.loads(meta["compile_config"])))
    elif kind < 0.75:
        names = [k for k in header if k != "__metadata__"]
        entry = header[rng.choice(names)]
        field = rng.choice(["shape", "dtype", "data_offsets"])
        entry[field] = copy.deepcopy(rng.choice(_VALUES + [[10**12, 10**12], [0, 10**12], [8, 4]]))
    elif kind < 0.9:
        raw = bytearray(open(src, "rb").read())
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        open(dst, "wb").write(bytes(raw))
        return
    else:
        raw = open(src, "rb").read()
        open(dst, "wb").write(raw[: rng.randrange(len(raw))])
        return
    _write_safetensors(dst, header, data)


def _mutant_keras(rng, src, dst):
    with zipfile.ZipFile(src) as zin:
        members = {info.filename: zin.read(info.filename) for info in zin.infolist()}
    kind = rng.random()
    if kind < 0.5:
        config = json.loads(members["config.json"])
        members["config.json"] = json.dumps(_mutate_json(rng, config)).encode()
    elif kind < 0.7:
        name = rng.choice(sorted(members))
        blob = bytearray(members[name])
        for _ in range(rng.randint(1, 16)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        members[name] = bytes(blob)
    elif kind < 0.85:
        del members[rng.choice(sorted(members))]
    else:
        raw = open(src, "rb").read()
        open(dst, "wb").write(raw[: rng.randrange(len(raw))])
        return
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, blob in members.items():
            zout.writestr(name, blob)


def _write_legacy(path, model, keras, h5py):
    """The model as tf.keras 2 / Keras 3's legacy writer lays out `model.save("m.h5")`."""
    import json as json_module

    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["model_config"] = json_module.dumps(keras.saving.serialize_keras_object(model))
        group = f.create_group("model_weights")
        layers = [layer for layer in model.layers if layer.get_weights()]
        group.attrs["layer_names"] = [layer.name.encode() for layer in layers]
        for layer in layers:
            layer_group = group.create_group(layer.name)
            names = [f"{layer.name}/w{i}:0" for i in range(len(layer.get_weights()))]
            layer_group.attrs["weight_names"] = [n.encode() for n in names]
            for name, array in zip(names, layer.get_weights()):
                layer_group.create_dataset(name, data=array)


def _mutant_legacy(rng, src, dst, h5py, np):
    kind = rng.random()
    if kind < 0.5:
        _mutant_h5(rng, src, dst, h5py, np)
        return
    open(dst, "wb").write(open(src, "rb").read())
    with h5py.File(dst, "r+") as f:
        if kind < 0.8:
            config = json.loads(f.attrs["model_config"])
            f.attrs["model_config"] = json.dumps(_mutate_json(rng, config))
            return
        groups = [f["model_weights"]] + [f["model_weights"][k] for k in f["model_weights"]]
        group = rng.choice(groups)
        key = "layer_names" if group.name == "/model_weights" else "weight_names"
        value = rng.choice([[], [b"nope"], [b"x"] * 50, [b""], list(group.attrs[key])[::-1]])
        group.attrs[key] = value


def _mutant_h5(rng, src, dst, h5py, np):
    raw = open(src, "rb").read()
    open(dst, "wb").write(raw)
    with h5py.File(dst, "r+") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        target = rng.choice(names)
        del f[target]
        kind = rng.random()
        if kind < 0.3:
            f.create_dataset(target, data=np.array(["a"], dtype=object), dtype=h5py.string_dtype())
        elif kind < 0.6:
            shape = tuple(rng.choice([1, 3, 4, 1000]) for _ in range(rng.randint(0, 3)))
            f.create_dataset(target, shape=shape, dtype=rng.choice(["float32", "int8", "float64"]))
        elif kind < 0.8:
            f.create_dataset(target, shape=(200_000, 4000), dtype="float32", compression="gzip",
                             chunks=(1000, 1000))  # 3.2 GB declared, a few KB stored
        else:
            f.create_group(target)


def main(folder, seed, count):
    import numpy as np

    import keraslike as keras

    try:
        import h5py
    except ImportError:
        h5py = None
    _limit_memory()
    inputs = keras.Input((4,))
    x = keras.layers.Dense(3, name="h")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x) + 1.0, name="small")
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4), "float32"), np.ones((4, 2), "float32"), verbose=0)
    native = os.path.join(folder, "m.safetensors")
    model.save(native)
    archive = os.path.join(folder, "m.keras") if h5py else None
    weights = os.path.join(folder, "m.weights.h5") if h5py else None
    legacy = os.path.join(folder, "m.h5") if h5py else None
    if h5py:
        model.save(archive)
        model.save_weights(weights)
        _write_legacy(legacy, model, keras, h5py)
        keras.models.load_model(legacy)  # the unmutated file loads
    rng = random.Random(seed)
    bad = 0
    for case in range(count):
        kind = rng.choice(["native", "keras", "h5", "legacy"] if h5py else ["native"])
        try:
            if kind == "native":
                path = os.path.join(folder, f"c{case}.safetensors")
                _mutant_native(rng, native, path)
                keras.models.load_model(path)
            elif kind == "keras":
                path = os.path.join(folder, f"c{case}.keras")
                _mutant_keras(rng, archive, path)
                keras.models.load_model(path)
            elif kind == "legacy":
                path = os.path.join(folder, f"c{case}.h5")
                _mutant_legacy(rng, legacy, path, h5py, np)
                keras.models.load_model(path)
            else:
                path = os.path.join(folder, f"c{case}.weights.h5")
                _mutant_h5(rng, weights, path, h5py, np)
                model.load_weights(path)
        except (ValueError, TypeError):
            pass
        except Exception as error:  # noqa: BLE001  (any other type is what the fuzz looks for)
            bad += 1
            message = str(error).replace("\n", " ")[:300]
            print(f"BAD {case} {kind} {type(error).__name__}: {message}", flush=True)
        finally:
            for name in os.listdir(folder):
                if name.startswith("c"):
                    os.unlink(os.path.join(folder, name))
    print(f"DONE {count} {bad}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
