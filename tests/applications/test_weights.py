"""Weights: parity with Keras through set_weights, Keras `.h5` files (both layouts), ImageNet files."""

import os
import shutil

import h5py
import numpy as np
import pytest
import torch

from tests.applications.conftest import predict_both


def _images(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (2,) + shape).astype("float32")


def _save_legacy(keras_model, path, suffix=""):
    """Writes the legacy (tf.keras) layout; `suffix=":0"` mimics TensorFlow-era weight names."""
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, keras_model)
    if suffix:
        with h5py.File(path, "r+") as f:
            for name in f.attrs["layer_names"]:
                group = f[name]
                names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
                for n in names:
                    group.move(n, n + suffix)
                group.attrs["weight_names"] = [(n + suffix).encode() for n in names]
    return str(path)


def _forward(model, x):
    with torch.no_grad():
        return model(torch.as_tensor(x)).numpy()


def test_vgg16_forward_matches_keras(vgg16_pair):
    theirs, ours = vgg16_pair
    expected, got = predict_both(theirs, ours, _images((64, 64, 3)) * 100)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_resnet50_forward_matches_keras(resnet50_pair):
    theirs, ours = resnet50_pair
    expected, got = predict_both(theirs, ours, _images((64, 64, 3)) * 100)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-5)


def test_get_weights_round_trip_to_keras(resnet50_pair):
    theirs, ours = resnet50_pair
    _assert_same_weights(ours, theirs)


def _write(theirs, tmp_path, layout):
    if layout.startswith("keras3"):
        path = str(tmp_path / "m.weights.h5")
        theirs.save_weights(path)
        if layout == "keras3_unnamed":  # Keras 3 files from before the `name` metadata
            with h5py.File(path, "r+") as f:
                for key in f["layers"]:
                    del f["layers"][key]["vars"].attrs["name"]
        return path
    if layout == "legacy_model_weights":  # a full-model legacy .h5 keeps weights in `model_weights`
        flat = _save_legacy(theirs, tmp_path / "flat.h5")
        path = str(tmp_path / "model.h5")
        with h5py.File(flat, "r") as src, h5py.File(path, "w") as dst:
            src.copy(src["/"], dst, name="model_weights")
            for k, v in src.attrs.items():
                dst["model_weights"].attrs[k] = v
        return path
    return _save_legacy(theirs, tmp_path / "m.h5", ":0" if layout == "legacy_tf_names" else "")


LAYOUTS = ["keras3", "keras3_unnamed", "legacy", "legacy_tf_names", "legacy_model_weights"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_keras_weight_files_load_by_name(mobilenet_pair, tmp_path, layout):
    from keraslike.applications import MobileNetV2

    theirs, ours = mobilenet_pair
    path = _write(theirs, tmp_path, layout)
    loaded = MobileNetV2(weights=path, input_shape=(96, 96, 3), alpha=0.35, classes=7)
    _assert_same_weights(loaded, theirs)
    x = _images((96, 96, 3), seed=3)
    np.testing.assert_array_equal(_forward(loaded, x), _forward(ours, x))


def _assert_same_weights(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_resnet50_keras3_weights_file(resnet50_pair, tmp_path):
    from keraslike.applications.weights_io import load_weights

    theirs, ours = resnet50_pair
    path = str(tmp_path / "resnet.weights.h5")
    theirs.save_weights(path)
    with torch.no_grad():  # scramble every weight and statistic, then load the file back
        for tensor in list(ours.parameters()) + list(ours.buffers()):
            tensor.fill_(0.5)
    try:
        load_weights(ours, path)
        _assert_same_weights(ours, theirs)
    finally:
        ours.set_weights(theirs.get_weights())


def test_classes_not_matching_the_weights_file_is_an_error(mobilenet_pair, tmp_path):
    from keraslike.applications import MobileNetV2

    theirs, _ = mobilenet_pair
    path = str(tmp_path / "m.weights.h5")
    theirs.save_weights(path)
    ok = MobileNetV2(weights=path, input_shape=(96, 96, 3), alpha=0.35, classes=7)
    assert ok.get_layer("predictions").get_weights()[0].shape == (1280, 7)
    with pytest.raises(ValueError, match="predictions.*classes"):
        MobileNetV2(weights=path, input_shape=(96, 96, 3), alpha=0.35, classes=5)
    with pytest.raises(ValueError, match=r"lacks: \['predictions'\]"):
        MobileNetV2(weights=path, input_shape=(96, 96, 3), alpha=0.35, include_top=False)


def test_not_a_weights_file_is_an_error(tmp_path):
    from keraslike.applications import MobileNetV2

    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(ValueError, match="is not a Keras weights file"):
        MobileNetV2(weights=str(path), include_top=False, input_shape=(32, 32, 3), alpha=0.35)


def test_imagenet_weights_missing_file_says_where_to_put_it(keras_home):
    from keraslike.applications import VGG16, MobileNetV2, ResNet50

    expected_dir = os.path.join(str(keras_home), "models")
    with pytest.raises(ValueError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5") as info:
        VGG16(include_top=False, input_shape=(32, 32, 3))
    assert expected_dir in str(info.value) and "does not download" in str(info.value)
    with pytest.raises(ValueError, match="resnet50_weights_tf_dim_ordering_tf_kernels.h5"):
        ResNet50()
    with pytest.raises(ValueError, match=r"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0\.35_96_no_top"):
        MobileNetV2(include_top=False, input_shape=(96, 96, 3), alpha=0.35)


def test_imagenet_weights_load_from_keras_cache(vgg16_pair, keras_home, tmp_path, monkeypatch):
    from keraslike.applications import VGG16

    theirs, ours = vgg16_pair
    _save_legacy(theirs, keras_home / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    model = VGG16(include_top=False, input_shape=(64, 64, 3))  # weights="imagenet" by default
    x = _images((64, 64, 3), seed=5) * 100
    np.testing.assert_array_equal(_forward(model, x), _forward(ours, x))

    # Without KERAS_HOME, Keras's default ~/.keras/models is searched.
    monkeypatch.delenv("KERAS_HOME")
    user_models = tmp_path / "user" / ".keras" / "models"
    user_models.mkdir(parents=True)
    file_name = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    shutil.move(str(keras_home / "models" / file_name), str(user_models))
    model = VGG16(include_top=False, input_shape=(64, 64, 3))
    _assert_same_weights(model, theirs)
