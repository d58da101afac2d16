"""Hostile and corrupt files: a clear ValueError naming the file, never a huge allocation."""

import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.torch import save_file

import keraslike as keras
from keraslike.saving.errors import SavedFileError


def _small_model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])


def _edit_native(src, dst, edit):
    with safe_open(str(src), "pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    config = json.loads(metadata["model_config"])
    edit(config)
    metadata["model_config"] = json.dumps(config)
    save_file(tensors, str(dst), metadata=metadata)


_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    import keraslike as keras
    from safetensors import safe_open
    from safetensors.torch import save_file

    folder = sys.argv[1]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    model.save(f"{folder}/m.safetensors")
    emb = keras.Sequential([keras.Input((2,), dtype="int32"), keras.layers.Embedding(10, 4)])
    emb.save(f"{folder}/e.safetensors")

    def write(src, dst, edit):
        with safe_open(src, "pt") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        config = json.loads(meta["model_config"])
        edit(config)
        meta["model_config"] = json.dumps(config)
        save_file(tensors, dst, metadata=meta)

    def units(c):
        c["config"]["layers"][-1]["config"]["units"] = 300_000_000
    def input_dim(c):
        c["config"]["layers"][-1]["config"]["input_dim"] = 10**12
    def wide_input(c):
        c["config"]["layers"][0]["config"]["batch_shape"] = [None, 10**12]

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cases = [("m", units), ("e", input_dim), ("m", wide_input)]
    for i, (src, edit) in enumerate(cases):
        path = f"{folder}/evil{i}.safetensors"
        write(f"{folder}/{src}.safetensors", path, edit)
        try:
            keras.models.load_model(path)
            print("LOADED", i)
        except ValueError as e:
            print("REFUSED", i, type(e).__name__, "evil" in str(e))
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print("GROWN_MB", grown)
    """
)


@pytest.mark.slow
def test_config_sizes_are_checked_before_anything_is_allocated(tmp_path):
    """`Dense(units=3e8)`, `Embedding(input_dim=1e12)`, an `Input` of width 1e12 in a 2 KB file:
    refused with a ValueError naming the file, while the process grows by far less than one of
    those weights (1.2 GB, 16 TB, 12 TB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)], capture_output=True, text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.split("\n")
    refused = [line for line in lines if line.startswith("REFUSED")]
    assert len(refused) == 3, out.stdout
    # The first two name the file; the third fails in the model's own input check (Keras's text).
    assert refused[0].endswith("True") and refused[1].endswith("True"), out.stdout
    grown = float(next(line for line in lines if line.startswith("GROWN_MB")).split()[1])
    assert grown < 400, out.stdout


def test_huge_units_refused_quickly(tmp_path):
    src = tmp_path / "m.safetensors"
    _small_model().save(src)
    evil = tmp_path / "evil.safetensors"

    def edit(config):
        config["config"]["layers"][-1]["config"]["units"] = 10**12  # 16 TB if allocated

    _edit_native(src, evil, edit)
    with pytest.raises(SavedFileError, match=r"evil\.safetensors.*\(1000000000000, 4\)"):
        keras.models.load_model(evil)


def test_deeply_nested_config(tmp_path):
    src = tmp_path / "m.safetensors"
    _small_model().save(src)
    evil = tmp_path / "deep.safetensors"
    deep = {}
    for _ in range(100_000):
        deep = {"a": deep}

    with safe_open(str(src), "pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    metadata["model_config"] = "[" * 100_000 + "]" * 100_000
    save_file(tensors, str(evil), metadata=metadata)
    with pytest.raises(ValueError, match="nested too deeply"):
        keras.models.load_model(evil)
    config = {"class_name": "Sequential", "config": {"layers": [deep]}, "module": "keras"}
    with pytest.raises(ValueError, match="nested too deeply"):
        keras.saving.deserialize_keras_object(config)


def _keras_file(tmp_path):
    path = tmp_path / "m.keras"
    _small_model().save(path)
    return path


def _rewrite_zip(src, dst, replace=None, extra=()):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if replace and info.filename in replace:
                data = replace[info.filename]
            zout.writestr(info.filename, data)
        for name, data in extra:
            zout.writestr(name, data)


def test_keras_archive_corrupt_member(tmp_path):
    src = _keras_file(tmp_path)
    dst = tmp_path / "corrupt.keras"
    _rewrite_zip(src, dst)
    raw = bytearray(dst.read_bytes())
    with zipfile.ZipFile(dst) as zf:
        info = zf.getinfo("config.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start, start + min(info.compress_size, 40)):
        raw[i] ^= 0x5A  # scramble the deflate stream
    dst.write_bytes(bytes(raw))
    with pytest.raises(SavedFileError, match=r"corrupt\.keras.*config\.json"):
        keras.models.load_model(dst)


def test_keras_archive_limits(tmp_path):
    src = _keras_file(tmp_path)
    many = tmp_path / "many.keras"
    _rewrite_zip(src, many, extra=[(f"junk{i}", b"x") for i in range(100)])
    with pytest.raises(SavedFileError, match="100|members"):
        keras.models.load_model(many)
    bomb = tmp_path / "bomb.keras"
    _rewrite_zip(src, bomb, replace={"config.json": b" " * (40 * 1024 * 1024)})
    with pytest.raises(SavedFileError, match="zip bomb"):
        keras.models.load_model(bomb)


def test_weights_h5_string_dataset_names_the_weight(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = _small_model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        target = names[0]
        del f[target]
        f.create_dataset(target, data=np.array(["a", "b"], dtype=object),
                         dtype=h5py.string_dtype())
    with pytest.raises(SavedFileError, match=r"w\.weights\.h5.*not numbers"):
        model.load_weights(path)


def test_weights_h5_shape_checked_before_reading(tmp_path, monkeypatch):
    h5py = pytest.importorskip("h5py")
    model = _small_model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        kernel = next(n for n in names if f[n].ndim == 2)
        del f[kernel]
        f.create_dataset(kernel, shape=(50_000, 3), dtype="float32")  # empty, never written
    reads = []
    original = h5py.Dataset.__getitem__

    def spy(self, key):
        reads.append(self.name)
        return original(self, key)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    with pytest.raises(ValueError, match=r"\(50000, 3\) vs \(4, 3\)"):
        model.load_weights(path)
    assert "/" + kernel not in reads


def test_keras_archive_sizes_checked_before_allocating(tmp_path):
    pytest.importorskip("h5py")
    src = _keras_file(tmp_path)
    with zipfile.ZipFile(src) as zf:
        config = json.loads(zf.read("config.json"))
    config["config"]["layers"][-1]["config"]["units"] = 10**12  # 16 TB if it were allocated
    evil = tmp_path / "evil.keras"
    _rewrite_zip(src, evil, replace={"config.json": json.dumps(config).encode()})
    with pytest.raises(SavedFileError, match=r"evil\.keras.*\(4, 3\) in the file but \(4, 1000000000000\)"):
        keras.models.load_model(evil)
