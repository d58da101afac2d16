"""Argument validation: the same checks (and exception types) as Keras's applications."""

import pytest
import torch

from keraslike.applications import VGG16, MobileNetV2, ResNet50, imagenet_utils


@pytest.mark.parametrize("builder", [VGG16, ResNet50])
def test_too_small_input_says_the_minimum(builder):
    with pytest.raises(ValueError, match="at least 32x32"):
        builder(weights=None, include_top=False, input_shape=(16, 40, 3))


def test_input_shape_errors():
    with pytest.raises(ValueError, match="static `input_shape`"):
        VGG16(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="three integers"):
        VGG16(weights=None, include_top=False, input_shape=(32, 32))
    with pytest.raises(ValueError, match=r"should be \(224, 224, 3\)"):
        VGG16(weights="imagenet", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="must have 3 channels"):
        ResNet50(weights="imagenet", include_top=False, input_shape=(64, 64, 4))


def test_weights_and_classes_errors(tmp_path):
    with pytest.raises(ValueError, match="`weights` argument should be either"):
        VGG16(weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        MobileNetV2(weights="imagenet", classes=10)


def test_classifier_activation_with_pretrained_weights(keras_home):
    with pytest.raises(ValueError, match="Only `None` and `softmax`"):
        MobileNetV2(weights="imagenet", classifier_activation="relu", input_shape=(96, 96, 3))


def test_mobilenet_v2_alpha_and_input_tensor_errors(keras_home):
    with pytest.raises(ValueError, match="alpha must be one of"):
        MobileNetV2(weights="imagenet", alpha=0.6)
    with pytest.raises(ValueError, match="must be a KerasTensor"):
        MobileNetV2(weights=None, input_tensor=torch.zeros(1, 96, 96, 3))


def test_bad_pooling_and_input_tensor():
    with pytest.raises(ValueError, match="pooling"):
        VGG16(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="must be a KerasTensor"):
        VGG16(weights=None, include_top=False, input_tensor=torch.zeros(1, 32, 32, 3))


def test_obtain_input_shape_matches_keras():
    keras = pytest.importorskip("keras")
    from keras.src.applications import imagenet_utils as theirs

    cases = [
        (None, False, None),
        (None, True, None),
        ((100, 120, 3), False, None),
        ((100, 120, 1), False, None),
        (None, True, "imagenet"),
        ((224, 224, 3), True, "imagenet"),
        ((None, 50, 3), False, "imagenet"),
    ]
    for shape, flatten, weights in cases:
        for data_format in ("channels_last", "channels_first"):
            if shape is not None and data_format == "channels_first":
                shape = (shape[2], shape[0], shape[1])
            expected = theirs.obtain_input_shape(shape, 224, 32, data_format, flatten, weights)
            got = imagenet_utils.obtain_input_shape(shape, 224, 32, data_format, flatten, weights)
            assert got == expected, (shape, flatten, weights, data_format)
    del keras
