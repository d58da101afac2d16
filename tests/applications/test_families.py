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
}
SLOW_STRUCTURE = set()


def signature(model):
    """A short hash of every layer's name, class and parameter count, in order."""
    text = "\n".join(f"{l.name}:{type(l).__name__}:{l.count_params()}" for l in model.layers)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _summary(model):
    return model.count_params(), len(model.layers), signature(model)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_STRUCTURE else n for n in REFERENCE]
)
def test_structure_matches_keras(name):
    expected = REFERENCE[name]
    assert _summary(build_meta(name)) == expected[:3]
    pooled = build_meta(name, include_top=False, pooling="avg")
    assert _summary(pooled) == expected[3:]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REFERENCE))
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
PARITY = [
    pytest.param("ResNet50V2", dict(include_top=False, input_shape=(64, 64, 3)), (-1, 1), marks=pytest.mark.slow),
    pytest.param("DenseNet121", dict(include_top=False, input_shape=(32, 32, 3)), (-2, 2), marks=pytest.mark.slow),
    pytest.param("EfficientNetB0", dict(include_top=False, input_shape=(32, 32, 3)), (0, 255), marks=pytest.mark.slow),
    pytest.param("ConvNeXtTiny", dict(include_top=False, input_shape=(32, 32, 3), pooling="avg"), (0, 255), marks=pytest.mark.slow),
    pytest.param("Xception", dict(include_top=False, input_shape=(71, 71, 3)), (-1, 1), marks=pytest.mark.slow),
    pytest.param("InceptionV3", dict(include_top=False, input_shape=(75, 75, 3)), (-1, 1), marks=pytest.mark.slow),
    pytest.param("InceptionResNetV2", dict(include_top=False, input_shape=(75, 75, 3)), (-1, 1), marks=pytest.mark.slow),
    pytest.param("EfficientNetV2B0", dict(include_top=False, input_shape=(32, 32, 3)), (0, 255), marks=pytest.mark.slow),
    ("MobileNet", dict(input_shape=(32, 32, 3), alpha=0.25, classes=7), (-1, 1)),
    pytest.param("MobileNetV3Small", dict(input_shape=(32, 32, 3), alpha=0.75, classes=7), (0, 255), marks=pytest.mark.slow),
    pytest.param(
        "MobileNetV3Large", dict(input_shape=(32, 32, 3), minimalistic=True, include_top=False, pooling="max"),
        (0, 255), marks=pytest.mark.slow,
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

    path = str(tmp_path / f"{name}.weights.h5")
    theirs.save_weights(path)
    loaded = getattr(applications, name)(weights=path, **kwargs)
    for a, b in zip(loaded.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        np.testing.assert_array_equal(loaded(torch.as_tensor(x)).numpy(), got)
