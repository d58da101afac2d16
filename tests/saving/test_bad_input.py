"""Bad files: each is a ValueError (or the documented subclass) naming the file and the problem."""

import json
import struct
import time
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import keraslike as keras
from keraslike import layers
from keraslike.saving.safetensors_io import read_header


def _model():
    inputs = keras.Input((4,))
    hidden = layers.Dense(3, name="h")(inputs)
    return keras.Model(inputs, layers.Dense(2, name="d")(hidden), name="small")


def _write_raw(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def _saved(tmp_path):
    path = tmp_path / "m.safetensors"
    _model().save(path)
    return path, read_header(path)


def _rewrite(path, header, metadata=None, tensors=None):
    """Rewrites a saved model with edited metadata and/or tensors."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        stored = {k: f.get_tensor(k) for k in f.keys()}
    stored.update(tensors or {})
    save_file(stored, str(path), metadata={**header.metadata, **(metadata or {})})


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(ValueError, match="nope.safetensors") as info:
        keras.models.load_model(missing)
    assert isinstance(info.value, FileNotFoundError)
    assert str(info.value) == f"Cannot load {str(missing)!r}: no such file or directory."
    with pytest.raises(FileNotFoundError):
        _model().load_weights(tmp_path / "nope.weights.h5")


def test_truncated_file(tmp_path):
    path, _ = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(ValueError, match=r"m\.safetensors.*truncated"):
        keras.models.load_model(path)
    path.write_bytes(data[:20])  # cut inside the header
    with pytest.raises(ValueError, match="truncated or not a safetensors file"):
        keras.models.load_model(path)
    path.write_bytes(data[:5])
    with pytest.raises(ValueError, match="fewer than the 8-byte header length"):
        keras.models.load_model(path)


def test_not_a_safetensors_file(tmp_path):
    path = tmp_path / "text.safetensors"
    path.write_text("hello, this is not a model at all, just some text of some length")
    with pytest.raises(ValueError, match=r"text\.safetensors.*not a safetensors file"):
        keras.models.load_model(path)
    with pytest.raises(ValueError, match="not a safetensors file"):
        _model().load_weights(path)


def test_safetensors_without_our_metadata_points_to_load_weights(tmp_path):
    model = _model()
    path = tmp_path / "plain.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    with pytest.raises(ValueError, match="load_weights"):
        keras.models.load_model(path)
    weights = tmp_path / "w.weights.safetensors"
    model.save_weights(weights)
    with pytest.raises(ValueError, match="only weights.*load_weights"):
        keras.models.load_model(weights)


def test_invalid_header_json(tmp_path):
    path = tmp_path / "bad.safetensors"
    raw = b'{"a": {"dtype": "F32", '
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 16)
    with pytest.raises(ValueError, match=r"bad\.safetensors.*invalid safetensors header JSON"):
        keras.models.load_model(path)


def test_invalid_config_json_in_metadata(tmp_path):
    path, header = _saved(tmp_path)
    _rewrite(path, header, metadata={"model_config": "{not json"})
    with pytest.raises(ValueError, match="'model_config' metadata is not valid JSON"):
        keras.models.load_model(path)


def test_unknown_class_names_the_class_and_the_fix(tmp_path):
    path, header = _saved(tmp_path)
    config = json.loads(header.metadata["model_config"])
    config["config"]["layers"][1]["class_name"] = "FancyDense"
    config["config"]["layers"][1]["module"] = "my_package.layers"
    config["config"]["layers"][1]["registered_name"] = "my_package>FancyDense"
    _rewrite(path, header, metadata={"model_config": json.dumps(config)})
    with pytest.raises(TypeError) as info:
        keras.models.load_model(path)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "FancyDense" in message and "register_keras_serializable" in message
    assert "custom_objects" in message


def test_tensor_shapes_that_do_not_match_the_config(tmp_path):
    path, header = _saved(tmp_path)
    _rewrite(path, header, tensors={"h.weight": torch.zeros(7, 4)})
    with pytest.raises(ValueError, match=r"m\.safetensors.*h\.weight: \(7, 4\) in the file vs \(3, 4\)"):
        keras.models.load_model(path)


def test_header_claiming_more_data_than_the_file_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.safetensors"
    n = 10**12  # 4 TB of float32 if anyone believed it
    _write_raw(
        path,
        {
            "__metadata__": {"format": "keraslike"},
            "w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]},
        },
        b"\0" * 64,
    )
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"huge\.safetensors.*truncated file.*'w'"):
        keras.models.load_model(path)
    with pytest.raises(ValueError, match="truncated file"):
        _model().load_weights(path)
    assert time.perf_counter() - start < 1.0
    # Offsets that disagree with dtype and shape are refused too.
    _write_raw(path, {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(ValueError, match="needs 16 bytes"):
        _model().load_weights(path)
    _write_raw(path, {"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(ValueError, match="invalid shape"):
        _model().load_weights(path)


def test_keras_archive_problems(tmp_path):
    model = _model()
    good = tmp_path / "good.keras"
    model.save(good)
    with zipfile.ZipFile(good) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}

    missing = tmp_path / "missing.keras"
    with zipfile.ZipFile(missing, "w") as zf:
        zf.writestr("config.json", members["config.json"])
    with pytest.raises(ValueError, match=r"missing\.keras.*'model\.weights\.h5'"):
        keras.models.load_model(missing)

    no_config = tmp_path / "noconfig.keras"
    with zipfile.ZipFile(no_config, "w") as zf:
        zf.writestr("model.weights.h5", members["model.weights.h5"])
    with pytest.raises(ValueError, match="no 'config.json' member"):
        keras.models.load_model(no_config)

    escaping = tmp_path / "escape.keras"
    with zipfile.ZipFile(escaping, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("../../evil.txt", b"x")
    with pytest.raises(ValueError, match="escapes"):
        keras.models.load_model(escaping)
    assert not (tmp_path.parent / "evil.txt").exists()

    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(good.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt.keras"):
        keras.models.load_model(corrupt)


def test_weights_file_given_to_load_model(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*load_weights"):
        keras.models.load_model(tmp_path / "w.weights.h5")


def test_unsupported_extensions(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match="Unsupported file extension.*`.h5` \\(legacy\\)"):
        model.save(tmp_path / "m.pkl")
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false(tmp_path):
    model = _model()
    path = tmp_path / "m.safetensors"
    model.save(path)
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    x = np.ones((1, 4), "float32")
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored(x).detach().numpy(), model(x).detach().numpy())
