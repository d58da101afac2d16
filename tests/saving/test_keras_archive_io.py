""".keras weights I/O paths: chunked writes of permuted weights, reads straight into the weights,
the stored member read inside the archive (CRC-checked) and a compressed member extracted."""

import struct
import zipfile

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers
from keraslike.saving import h5_tensors
from keraslike.saving.errors import SavedFileError


def _model():
    inputs = keras.Input(shape=(6, 6, 3))
    x = layers.Conv2D(4, 3, name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(5, name="dense")(x)
    model = keras.Model(inputs, outputs)
    with torch.no_grad():
        model.get_layer("bn").running_mean.uniform_(-1, 1)
    return model


@pytest.mark.parametrize("chunk_bytes", [h5_tensors.CHUNK_BYTES, 64])
def test_round_trip_is_exact(tmp_path, monkeypatch, chunk_bytes):
    # 64 bytes: every permuted kernel goes through the row-block buffer, several blocks each.
    monkeypatch.setattr(h5_tensors, "CHUNK_BYTES", chunk_bytes)
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), restored.predict(x, verbose=0))


def test_chunked_file_equals_keras_layout(tmp_path, monkeypatch):
    h5py = pytest.importorskip("h5py")
    monkeypatch.setattr(h5_tensors, "CHUNK_BYTES", 64)
    model = _model()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        kernel = f["layers/dense/vars/0"][()]
        conv = f["layers/conv2d/vars/0"][()]
    np.testing.assert_array_equal(kernel, model.get_layer("dense").get_weights()[0])
    np.testing.assert_array_equal(conv, model.get_layer("conv").get_weights()[0])


def test_damaged_member_is_refused(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.weights.h5")
        assert info.compress_type == zipfile.ZIP_STORED
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack_from("<2H", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len  # the local header's own lengths
    data[start + info.file_size - 8] ^= 0xFF  # inside the last weight's bytes
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(bytes(data))
    with pytest.raises(SavedFileError, match="CRC"):
        keras.models.load_model(damaged)


def test_compressed_member_is_extracted(tmp_path):
    path = tmp_path / "m.keras"
    model = _model()
    model.save(path)
    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    restored = keras.models.load_model(deflated)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
