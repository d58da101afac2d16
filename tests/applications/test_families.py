"""The application families beyond VGG/ResNet/MobileNetV2: structure, forward parity, weight files.

Structure: our model (built on the meta device: no memory, no initialization) must have Keras
3.15's layer names, classes and per-layer parameter counts, in order. The reference signatures
below were read from `keras.applications.<Name>(weights=None)` (and with `include_top=False,
pooling="avg"`); `test_signatures_match_live_keras` (slow) re-reads them from the installed Keras.

Parity (per family, on its smallest variant and a small input): Keras's model with randomized
BatchNorm statistics, weights copied with `get_weights`/`set_weights`, outputs within 1e-4; the
`.weights.h5` Keras 3 saves for it loads by name and gives the same outputs.
"""

import hashlib
import os

import numpy as np
import pytest
import torch

from tests.applications.conftest import build_meta, build_pair, predict_both, randomize_batchnorm

# name: (params with top, layers with top, signature with top, same three for include_top=False,
# pooling="avg"), read from Keras 3.15.1.
REFERENCE = {
    "ResNet50V2": (25613800, 192, "52f0195d84be0f61", 23564800, 191, "82ec2e7da8e7e28e"),
    "ResNet101V2": (44675560, 379, "8644ec63c284bd24", 42626560, 378, "a0ab856e2b474339"),
    "ResNet152V2": (60380648, 566, "32b7109891a496a7", 58331648, 565, "4f89070b90ece698"),
    "DenseNet121": (8062504, 429, "a5ad87699996b4a1", 7037504, 428, "81bbffb59366c216"),
    "DenseNet169": (14307880, 597, "f2c95ea05ef12181", 12642880, 596, "7380a9630c30fbcf"),
    "DenseNet201": (20242984, 709, "6421d5259bc4fa96", 18321984, 708, "049258ee826d069a"),
    "MobileNet": (4253864, 91, "6ff3d28868597a0a", 3228864, 87, "61671338f1715d83"),
    "MobileNetV3Small": (2554968, 164, "7edfb8fbb5aa9e95", 939120, 158, "9697b23785112d28"),
    "MobileNetV3Large": (5507432, 194, "c37768f9b2825700", 2996352, 188, "2f001572061c7ff4"),
    "EfficientNetB0": (5330571, 240, "0f04b8845ce9a044", 4049571, 238, "e06b226f46407e51"),
    "EfficientNetB1": (7856239, 342, "d9f58cea5b4b46be", 6575239, 340, "f52231bd08c0f101"),
    "EfficientNetB2": (9177569, 342, "a4f0204ca35caedd", 7768569, 340, "66a276b44366a5a4"),
    "EfficientNetB3": (12320535, 387, "8a5a626763670a0c", 10783535, 385, "f4cecac3b8a7847e"),
    "EfficientNetB4": (19466823, 477, "b3f2861f0c1ccbd9", 17673823, 475, "512ff0f978d786e0"),
    "EfficientNetB5": (30562527, 579, "2e9921d79229e869", 28513527, 577, "e3bbe64a108dc43b"),
    "EfficientNetB6": (43265143, 669, "98844f67f5965dbe", 40960143, 667, "5e2741aef78dc285"),
    "EfficientNetB7": (66658687, 816, "9c7a87110408450b", 64097687, 814, "5dc763a11e02720c"),
    "ConvNeXtTiny": (28589128, 135, "6fe753f7ce394de3", 27820128, 134, "b5fca76d519ea1da"),
    "ConvNeXtSmall": (50223688, 261, "c8f205b041c6d100", 49454688, 260, "fb9b12d24999c62c"),
    "ConvNeXtBase": (88591464, 261, "4ba9a664c65d4999", 87566464, 260, "3fde5685c116f2a0"),
    "ConvNeXtLarge": (197767336, 261, "cf497fb96503d1e3", 196230336, 260, "be511ebd600fc1c2"),
    "ConvNeXtXLarge": (350196968, 261, "7a93a9216103f591", 348147968, 260, "543065262e4c9ef0"),
    "Xception": (22910480, 134, "88590669fad08964", 20861480, 133, "4eb908fb97501fa5"),
    "InceptionV3": (23851784, 313, "db5973f858ec8ed3", 21802784, 312, "31753298ec7c9a41"),
    "InceptionResNetV2": (55873736, 782, "eaf14540fbabee27", 54336736, 781, "8a30923c0182eeb8"),
    "EfficientNetV2B0": (7200312, 273, "659f2eff7de0e602", 5919312, 271, "9d8b7077feafb0a0"),
    "EfficientNetV2B1": (8212124, 337, "72f57cfc9dea9fdd", 6931124, 335, "be273c36ce1cd1c3"),
    "EfficientNetV2B2": (10178374, 352, "3cd6777b9a1ddd73", 8769374, 350, "87d4d6e565cb2460"),
    "EfficientNetV2B3": (14467622, 412, "d31f4307b3cf5d4e", 12930622, 410, "f95058da4438486f"),
    "EfficientNetV2S": (21612360, 516, "f61825505fd90c07", 20331360, 514, "391bf50e9a68429a"),
    "EfficientNetV2M": (54431388, 743, "e6a7e594dc57afe8", 53150388, 741, "4f1a423283d07339"),
    "EfficientNetV2L": (119027848, 1031, "946fa5bd597192d3", 117746848, 1029, "0f468b85c102f14f"),
    "NASNetMobile": (5326716, 771, "69548d6ef6f91d67", 4269716, 770, "0062b9b221f7c00d"),
    "NASNetLarge": (88949818, 1041, "2bc0a493569c3b02", 84887922, 1013, "6bd03d044e0de49c"),
}
# The smallest variant of each family stays in the fast suite; the others take seconds each.
FAST_STRUCTURE = {
    "ResNet50V2", "DenseNet121", "MobileNet", "MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0",
    "EfficientNetV2B0", "ConvNeXtTiny", "Xception", "InceptionV3", "NASNetMobile",
}  # fmt: skip


def signature(model):
    """A short hash of every layer's name, class and parameter count, in order."""
    text = "\n".join(f"{l.name}:{type(l).__name__}:{l.count_params()}" for l in model.layers)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _summary(model):
    return model.count_params(), len(model.layers), signature(model)


@pytest.mark.parametrize(
    "name", [n if n in FAST_STRUCTURE else pytest.param(n, marks=pytest.mark.slow) for n in REFERENCE]
)
def test_structure_matches_keras(name):
    expected = REFERENCE[name]
    assert _summary(build_meta(name)) == expected[:3]
    pooled = build_meta(name, include_top=False, pooling="avg")
    assert _summary(pooled) == expected[3:]


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("KERASLIKE_LIVE_KERAS_SWEEP"),
    reason="rebuilds every Keras application (~40 min on 2 cores); the reference numbers it checks "
    "are in REFERENCE; set KERASLIKE_LIVE_KERAS_SWEEP=1 to re-derive them",
)
@pytest.mark.parametrize("name", [n for n in REFERENCE if n != "NASNetMobile"])  # Keras refuses it on torch
def test_signatures_match_live_keras(name):
    keras = pytest.importorskip("keras")

    got = []
    for kwargs in ({}, {"include_top": False, "pooling": "avg"}):
        keras.backend.clear_session(free_memory=False)
        theirs = getattr(keras.applications, name)(weights=None, **kwargs)
        got.extend(_summary(theirs))
        ours = build_meta(name, **kwargs)
        assert ours.name == theirs.name
        assert tuple(ours.output.shape) == tuple(theirs.output.shape)
    assert tuple(got) == REFERENCE[name]


def _images(shape, low, high, seed=0):
    return np.random.default_rng(seed).uniform(low, high, (2,) + shape).astype("float32")


# (name, kwargs, input value range): the smallest variant of each family on a small input.
def _slow(*values):
    return pytest.param(*values, marks=pytest.mark.slow)


PARITY = [
    _slow("ResNet50V2", dict(include_top=False, input_shape=(64, 64, 3)), (-1, 1)),
    _slow("DenseNet121", dict(include_top=False, input_shape=(32, 32, 3)), (-2, 2)),
    _slow("EfficientNetB0", dict(include_top=False, input_shape=(32, 32, 3)), (0, 255)),
    _slow("ConvNeXtTiny", dict(include_top=False, input_shape=(32, 32, 3), pooling="avg"), (0, 255)),
    _slow("Xception", dict(include_top=False, input_shape=(71, 71, 3)), (-1, 1)),
    _slow("InceptionV3", dict(include_top=False, input_shape=(75, 75, 3)), (-1, 1)),
    _slow("InceptionResNetV2", dict(include_top=False, input_shape=(75, 75, 3)), (-1, 1)),
    _slow("EfficientNetV2B0", dict(include_top=False, input_shape=(32, 32, 3)), (0, 255)),
    ("MobileNet", dict(input_shape=(32, 32, 3), alpha=0.25, classes=7), (-1, 1)),
    _slow("MobileNetV3Small", dict(input_shape=(32, 32, 3), alpha=0.75, classes=7), (0, 255)),
    _slow(
        "MobileNetV3Large", dict(input_shape=(32, 32, 3), minimalistic=True, include_top=False, pooling="max"),
        (0, 255),
    ),  # fmt: skip
]


@pytest.mark.parametrize("name,kwargs,value_range", PARITY)
def test_forward_and_keras_weights_file_match_keras(name, kwargs, value_range, tmp_path):
    from keraslike import applications

    theirs, ours = build_pair(name, **kwargs)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert tuple(ours.output.shape) == tuple(theirs.output.shape)
    randomize_batchnorm(theirs)
    ours.set_weights(theirs.get_weights())
    shape = tuple(kwargs.get("input_shape", theirs.input.shape[1:]))
    x = _images(shape, *value_range)
    expected, got = predict_both(theirs, ours, x)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)

    # Keras 3's `.weights.h5`, and the legacy layout of Keras's published ImageNet files.
    path = str(tmp_path / f"{name}.weights.h5")
    theirs.save_weights(path)
    legacy = _save_legacy(theirs, str(tmp_path / f"{name}.h5"))
    for file in (path, legacy):
        loaded = getattr(applications, name)(weights=file, **kwargs)
        for a, b in zip(loaded.get_weights(), theirs.get_weights()):
            np.testing.assert_array_equal(a, b)
        with torch.no_grad():
            np.testing.assert_array_equal(loaded(torch.as_tensor(x)).numpy(), got)


def _save_legacy(keras_model, path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, keras_model)
    return path


@pytest.mark.slow
def test_nasnet_small_config_matches_keras(tmp_path):
    """NASNet's cells on a small configuration (Keras refuses NASNetMobile on torch)."""
    keras = pytest.importorskip("keras")
    from keras.src.applications import nasnet as keras_nasnet

    from keraslike.applications import nasnet
    from keraslike.backend import naming

    kwargs = dict(
        input_shape=(32, 32, 3), penultimate_filters=96, num_blocks=1, stem_block_filters=8,
        skip_reduction=False, include_top=True, classes=5, default_size=224, name="nasnet_small",
    )  # fmt: skip
    keras.backend.clear_session(free_memory=False)
    naming.reset_names()
    theirs = keras_nasnet.NASNet(weights=None, **kwargs)
    ours = nasnet.NASNet(weights=None, **kwargs)
    assert _summary(ours) == _summary(theirs)
    randomize_batchnorm(theirs)
    ours.set_weights(theirs.get_weights())
    x = _images((32, 32, 3), -1, 1)
    expected, got = predict_both(theirs, ours, x)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
    path = str(tmp_path / "nasnet.weights.h5")
    theirs.save_weights(path)
    loaded = nasnet.NASNet(weights=path, **kwargs)
    with torch.no_grad():
        np.testing.assert_array_equal(loaded(torch.as_tensor(x)).numpy(), got)


MISSING_FILES = [
    ("ResNet50V2", {}, "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5"),
    ("ResNet152V2", {"include_top": False}, "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("DenseNet121", {"include_top": False}, "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("DenseNet201", {}, "densenet201_weights_tf_dim_ordering_tf_kernels.h5"),
    (
        "MobileNet", {"alpha": 0.25, "input_shape": (128, 128, 3), "include_top": False},
        "mobilenet_2_5_128_tf_no_top.h5",
    ),
    ("MobileNet", {}, "mobilenet_1_0_224_tf.h5"),
    ("MobileNetV3Small", {}, "weights_mobilenet_v3_small_224_1.0_float.h5"),
    (
        "MobileNetV3Large", {"minimalistic": True, "include_top": False},
        "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5",
    ),
    ("EfficientNetB3", {}, "efficientnetb3.h5"),
    ("EfficientNetB0", {"include_top": False}, "efficientnetb0_notop.h5"),
    ("EfficientNetV2S", {"include_top": False}, "efficientnetv2-s_notop.h5"),
    ("EfficientNetV2B0", {}, "efficientnetv2-b0.h5"),
    ("ConvNeXtTiny", {}, "convnext_tiny.h5"),
    ("ConvNeXtXLarge", {"include_top": False}, "convnext_xlarge_notop.h5"),
    ("Xception", {}, "xception_weights_tf_dim_ordering_tf_kernels.h5"),
    ("InceptionV3", {"include_top": False}, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ("InceptionResNetV2", {}, "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"),
    ("NASNetMobile", {}, "nasnet_mobile.h5"),
    ("NASNetLarge", {"include_top": False}, "nasnet_large_no_top.h5"),
]  # fmt: skip


@pytest.mark.parametrize("name,kwargs,file_name", MISSING_FILES)
def test_imagenet_weights_missing_file_names_keras_file(keras_home, name, kwargs, file_name):
    import os
    import re
    import warnings

    from keraslike import applications

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MobileNetV3's "weights for 224 will be loaded" warning
        with pytest.raises(ValueError, match=re.escape(file_name)) as info:
            getattr(applications, name)(**kwargs)
    assert os.path.join(str(keras_home), "models") in str(info.value)
    assert "does not download" in str(info.value)


@pytest.mark.parametrize("name", ["DenseNet121", "ConvNeXtTiny", "NASNetMobile"])
def test_channels_last_only_families_refuse_channels_first(name):
    from keraslike import applications
    from keraslike.backend import config

    config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="channels_first"):
            getattr(applications, name)(weights=None, include_top=False, input_shape=(3, 64, 64))
    finally:
        config.set_image_data_format("channels_last")


def test_efficientnet_imagenet_model_adds_keras_stddev_rescaling(keras_home):
    """With `weights="imagenet"` Keras inserts a third Rescaling (1/sqrt(std)); the file loads."""
    keras = pytest.importorskip("keras")
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    from keraslike import applications
    from keraslike.backend import naming

    keras.backend.clear_session(free_memory=False)
    theirs = keras.applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    with h5py.File(keras_home / "models" / "efficientnetb0_notop.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    naming.reset_names()
    ours = applications.EfficientNetB0(include_top=False, input_shape=(32, 32, 3))
    names = [l.name for l in ours.layers[:5]]
    assert names == ["input_layer", "rescaling", "normalization", "rescaling_1", "stem_conv_pad"]
    assert ours.layers[3].scale == pytest.approx([1 / s**0.5 for s in (0.229, 0.224, 0.225)])
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "module,mode",
    [
        ("resnet_v2", "tf"), ("densenet", "torch"), ("mobilenet", "tf"), ("xception", "tf"),
        ("inception_v3", "tf"), ("inception_resnet_v2", "tf"), ("nasnet", "tf"),
        ("mobilenet_v3", None), ("efficientnet", None), ("efficientnet_v2", None), ("convnext", None),
    ],
)  # fmt: skip
def test_family_preprocess_input_matches_keras(module, mode):
    keras = pytest.importorskip("keras")
    import importlib

    ours = importlib.import_module(f"keraslike.applications.{module}")
    theirs = getattr(keras.applications, module)
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(ours.preprocess_input(x.copy()), theirs.preprocess_input(x.copy()), rtol=1e-6)
    if mode is None:
        assert ours.preprocess_input(x) is x
    assert ours.decode_predictions.__doc__


def test_family_argument_errors(keras_home):
    from keraslike import applications
    from keraslike.applications import nasnet

    with pytest.raises(ValueError, match="alpha can be one of"):
        applications.MobileNet(alpha=0.3)
    with pytest.raises(ValueError, match="depth multiplier must be 1"):
        applications.MobileNet(depth_multiplier=2)
    with pytest.raises(ValueError, match="alpha can be one of `0.75`, `1.0`"):
        applications.MobileNetV3Small(alpha=0.5)
    with pytest.raises(ValueError, match="at least 32x32"):
        applications.MobileNetV3Large(weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="does not match weights variant"):
        applications.ConvNeXtTiny(name="my_model")
    with pytest.raises(ValueError, match="multiple of 24"):
        nasnet.NASNet(weights=None, penultimate_filters=100, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="must be static"):
        applications.NASNetLarge(include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="at least 71x71"):
        applications.Xception(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        applications.EfficientNetV2B0(classes=10)
    with pytest.raises(ValueError, match="pooling"):
        applications.DenseNet121(weights=None, include_top=False, pooling="mean")
