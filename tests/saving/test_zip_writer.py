"""The `.keras` archive written in place (`saving/zip_writer.py`): HDF5 writes the weights member
where it lies in the zip; the member alone is a complete HDF5 file; zip64 records where needed;
Python's `zipfile` (which Keras reads with) and Keras 3 accept the archive."""

import io
import struct
import zipfile

import numpy as np
import pytest

import keraslike as keras
from keraslike import layers
from keraslike.saving import zip_writer

h5py = pytest.importorskip("h5py")


def _model():
    inputs = keras.Input(shape=(4, 4, 2))
    x = layers.Conv2D(3, 3, name="conv")(inputs)
    x = layers.Flatten()(x)
    outputs = layers.Dense(5, name="dense")(x)
    return keras.Model(inputs, outputs)


def _local_data_offset(path, info):
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len, extra_len = struct.unpack("<2H", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def test_weights_member_is_written_in_place_and_is_a_complete_hdf5(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every member's CRC-32 checks out
        info = zf.getinfo("model.weights.h5")
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.header_offset == 0
        assert _local_data_offset(path, info) == zip_writer.HEADER_ROOM
        member = zf.read("model.weights.h5")
        assert {"config.json", "metadata.json"} <= set(zf.namelist())
    assert member[:8] == b"\x89HDF\r\n\x1a\n"
    with h5py.File(io.BytesIO(member), "r") as f:
        kernel = f["layers/dense/vars/0"][()]
    np.testing.assert_array_equal(kernel, model.get_layer("dense").get_weights()[0])


def test_zip64_records_are_read_by_zipfile_and_keraslike(tmp_path, monkeypatch):
    # Every size and offset past the limit: the zip64 extra fields, end record and locator.
    monkeypatch.setattr(zip_writer, "_LIMIT", 16)
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        weights, metadata = zf.getinfo("model.weights.h5"), zf.getinfo("metadata.json")
        # Sizes and offsets come from the zip64 extra fields (the 32-bit fields read 0xFFFFFFFF).
        assert metadata.header_offset == zip_writer.HEADER_ROOM + weights.file_size > 16
        assert len(zf.read("config.json")) == zf.getinfo("config.json").file_size > 16
    restored = keras.models.load_model(path)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_header_that_does_not_fit_is_a_value_error():
    with pytest.raises(ValueError, match="does not fit"):
        zip_writer._local_header("x" * 600, 0, 10, (0, 0), room=zip_writer.HEADER_ROOM)


def test_keras_loads_the_in_place_archive(keras_oracle, tmp_path, monkeypatch):
    model = _model()
    x = np.random.default_rng(0).random((2, 4, 4, 2)).astype("float32")
    expected = model.predict(x, verbose=0)
    for limit in (zip_writer._LIMIT, 16):  # plain zip, then zip64 records throughout
        monkeypatch.setattr(zip_writer, "_LIMIT", limit)
        path = tmp_path / f"m{limit}.keras"
        model.save(path)
        theirs = keras_oracle.models.load_model(path)
        np.testing.assert_allclose(theirs.predict(x, verbose=0), expected, atol=1e-6)
