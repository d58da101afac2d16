"""preprocess_input parity with Keras (NumPy, torch and symbolic inputs) and decode_predictions."""

import json

import numpy as np
import pytest
import torch


def _keras_imagenet_utils():
    pytest.importorskip("keras")
    from keras.src.applications import imagenet_utils

    return imagenet_utils


CASES = [
    ("caffe", "channels_last", (2, 5, 4, 3)),
    ("caffe", "channels_first", (2, 3, 5, 4)),
    ("caffe", "channels_last", (5, 4, 3)),
    ("caffe", "channels_first", (3, 5, 4)),
    ("tf", "channels_last", (2, 5, 4, 3)),
    ("torch", "channels_last", (2, 5, 4, 3)),
    ("torch", "channels_first", (2, 3, 5, 4)),
]


@pytest.mark.parametrize("mode,data_format,shape", CASES)
def test_preprocess_numpy_matches_keras(mode, data_format, shape):
    from keraslike.applications import imagenet_utils

    theirs = _keras_imagenet_utils()
    x = np.random.default_rng(0).uniform(0, 255, shape).astype("float32")
    expected = theirs.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    got = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    assert got.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode,data_format,shape", CASES)
def test_preprocess_tensor_matches_keras(mode, data_format, shape):
    from keraslike.applications import imagenet_utils

    theirs = _keras_imagenet_utils()
    x = np.random.default_rng(1).uniform(0, 255, shape).astype("float32")
    expected = theirs.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    tensor = torch.as_tensor(x.copy())
    got = imagenet_utils.preprocess_input(tensor, data_format=data_format, mode=mode)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(tensor.numpy(), x)  # the input tensor is left alone


def test_family_preprocessing_modes():
    from keraslike.applications import mobilenet_v2, resnet, resnet50, vgg16, vgg19

    x = np.random.default_rng(2).integers(0, 256, (1, 4, 4, 3)).astype("uint8")  # integers become float32
    theirs = _keras_imagenet_utils()
    caffe = theirs.preprocess_input(x.copy(), mode="caffe")
    for module in (vgg16, vgg19, resnet, resnet50):
        np.testing.assert_array_equal(module.preprocess_input(x.copy()), caffe)
    got = mobilenet_v2.preprocess_input(x.copy())
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, theirs.preprocess_input(x.copy(), mode="tf"))
    assert mobilenet_v2.preprocess_input(torch.as_tensor(x)).dtype == torch.float32


def test_preprocess_inside_a_model():
    import keraslike as keras
    from keraslike.applications import vgg16

    inputs = keras.Input(shape=(4, 4, 3))
    model = keras.Model(inputs, vgg16.preprocess_input(inputs))
    x = np.random.default_rng(3).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = vgg16.preprocess_input(x.copy())
    np.testing.assert_allclose(model(torch.as_tensor(x)).detach().numpy(), expected, atol=1e-5)


def test_preprocess_bad_arguments():
    from keraslike.applications import imagenet_utils

    x = np.zeros((1, 2, 2, 3), "float32")
    with pytest.raises(ValueError, match="mode"):
        imagenet_utils.preprocess_input(x, mode="bgr")
    with pytest.raises(ValueError, match="data_format"):
        imagenet_utils.preprocess_input(x, data_format="nhwc")


@pytest.fixture
def class_index(keras_home):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (keras_home / "models" / "imagenet_class_index.json").write_text(json.dumps(index))
    return index


def test_decode_predictions(class_index):
    from keraslike.applications import resnet50, vgg16

    preds = np.full((2, 1000), 1e-4, "float32")
    preds[0, [5, 17, 999]] = [0.2, 0.5, 0.3]
    preds[1, 42] = 0.9
    decoded = vgg16.decode_predictions(preds, top=3)
    assert [name for name, _, _ in decoded[0]] == ["n00000017", "n00000999", "n00000005"]
    assert [description for _, description, _ in decoded[0]] == ["class_17", "class_999", "class_5"]
    assert decoded[0][0][2] == pytest.approx(0.5)
    assert len(resnet50.decode_predictions(torch.as_tensor(preds))[1]) == 5
    assert resnet50.decode_predictions(preds, top=1)[1][0][:2] == ("n00000042", "class_42")


def test_decode_predictions_errors(keras_home):
    from keraslike.applications import imagenet_utils

    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="imagenet_class_index.json.*does not download"):
        imagenet_utils.decode_predictions(np.zeros((2, 1000)))
