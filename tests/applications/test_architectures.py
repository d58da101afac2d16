"""Architectures: layer names, layer classes, parameter counts and output shapes equal Keras 3's.

Structure-only checks build our model on the meta device (no memory, no initialization time);
Keras's side is always a real build.
"""

import numpy as np
import pytest

from tests.applications.conftest import build_meta, build_pair, predict_both, randomize_batchnorm


def _same_structure(theirs, ours):
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert [l.count_params() for l in ours.layers] == [l.count_params() for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    assert ours.name == theirs.name
    assert tuple(ours.output.shape) == tuple(theirs.output.shape)


def test_vgg16_structure_and_weight_shapes_match_keras(vgg16_pair):
    theirs, ours = vgg16_pair
    _same_structure(theirs, ours)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert ours.count_params() == 14_714_688


@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_vgg16_pooling_matches_keras(pooling):
    theirs, ours = build_pair("VGG16", meta=True, include_top=False, input_shape=(32, 32, 3), pooling=pooling)
    _same_structure(theirs, ours)


def test_vgg_full_size_counts():
    import keras

    keras.backend.clear_session()
    notop = keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    vgg19 = build_meta("VGG19")
    assert vgg19.count_params() == 143_667_240
    top = ["flatten", "fc1", "fc2", "predictions"]
    assert [l.name for l in vgg19.layers] == [l.name for l in notop.layers] + top
    assert vgg19.output.shape == (None, 1000)
    assert vgg19.layers[0].batch_shape == (None, 224, 224, 3)
    assert build_meta("VGG16").count_params() == 138_357_544
    pooled = build_meta("VGG19", include_top=False, pooling="max")
    assert pooled.count_params() == notop.count_params() == 20_024_384
    assert pooled.layers[0].batch_shape == (None, None, None, 3)


def test_resnet50_structure_matches_keras(resnet50_pair):
    theirs, ours = resnet50_pair
    _same_structure(theirs, ours)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert ours.count_params() == 23_587_712


def test_resnet50_full_size_and_pooling_layers(resnet50_pair):
    theirs, _ = resnet50_pair
    base_names = [l.name for l in theirs.layers][1:]  # without the input layer
    full = build_meta("ResNet50")
    assert full.count_params() == 25_636_712
    assert [l.name for l in full.layers][1:] == base_names + ["avg_pool", "predictions"]
    assert full.output.shape == (None, 1000)
    assert full.layers[0].batch_shape == (None, 224, 224, 3)
    for pooling, layer_name in [("avg", "avg_pool"), ("max", "max_pool")]:
        pooled = build_meta("ResNet50", include_top=False, input_shape=(64, 64, 3), pooling=pooling)
        assert [l.name for l in pooled.layers][1:] == base_names + [layer_name]
        assert pooled.output.shape == (None, 2048)


def test_resnet101_and_resnet152_counts():
    # Counts and layer totals from keras.applications.ResNet101/152(weights=None), Keras 3.15.
    model = build_meta("ResNet101", include_top=False, pooling="avg")
    assert model.count_params() == 42_658_176
    assert len(model.layers) == 346
    assert model.layers[-2].name == "conv5_block3_out"
    assert build_meta("ResNet101").count_params() == 44_707_176
    model = build_meta("ResNet152")
    assert model.count_params() == 60_419_944
    assert len(model.layers) == 517
    assert model.get_layer("conv4_block36_out") is not None
    assert model.name == "resnet152"


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(include_top=False, input_shape=(96, 96, 3), alpha=0.35, pooling="avg"),
        dict(input_shape=(128, 128, 3), alpha=1.4, classes=10, classifier_activation=None),
        dict(include_top=False, input_shape=(33, 47, 3), alpha=0.5, pooling="max"),
    ],
)
def test_mobilenet_v2_structure_matches_keras(kwargs):
    theirs, ours = build_pair("MobileNetV2", meta=True, **kwargs)
    _same_structure(theirs, ours)


def test_mobilenet_v2_forward_matches_keras(mobilenet_pair):
    theirs, ours = mobilenet_pair
    _same_structure(theirs, ours)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 96, 96, 3)).astype("float32")
    expected, got = predict_both(theirs, ours, x)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_channels_first_matches_keras():
    import keras

    from keraslike.backend import config

    keras.config.set_image_data_format("channels_first")
    config.set_image_data_format("channels_first")
    try:
        theirs, ours = build_pair("MobileNetV2", include_top=False, input_shape=(3, 33, 33), alpha=0.35)
        _same_structure(theirs, ours)
        randomize_batchnorm(theirs)
        ours.set_weights(theirs.get_weights())
        x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 33, 33)).astype("float32")
        expected, got = predict_both(theirs, ours, x)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    finally:
        keras.config.set_image_data_format("channels_last")
        config.set_image_data_format("channels_last")


def test_input_tensor_is_used_and_sources_become_inputs():
    import torch

    import keraslike as keras
    from keraslike.applications import ResNet50

    inputs = keras.Input(shape=(32, 32, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    with torch.device("meta"):
        model = ResNet50(weights=None, include_top=False, input_tensor=x, pooling="avg")
    assert model.inputs[0] is inputs
    assert [l.name for l in model.layers[:3]] == ["image", "rescaling", "conv1_pad"]
    assert model.output.shape == (None, 2048)


@pytest.mark.cuda
def test_model_with_preprocessing_runs_on_cuda():
    import torch

    import keraslike as keras
    from keraslike.applications import MobileNetV2, mobilenet_v2, vgg16

    inputs = keras.Input(shape=(64, 64, 3))
    x = vgg16.preprocess_input(inputs)  # per-channel scalars: no constant pinned to the CPU
    x = mobilenet_v2.preprocess_input(x)
    backbone = MobileNetV2(weights=None, include_top=False, input_tensor=x, alpha=0.35, pooling="avg")
    model = backbone.to("cuda")
    with torch.no_grad():
        out = model(torch.rand(2, 64, 64, 3, device="cuda") * 255)
    assert out.shape == (2, 1280) and out.device.type == "cuda"
