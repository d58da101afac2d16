"""torchvision VGG weights -> the Keras-architecture VGG (torchvision itself is optional)."""

import numpy as np
import pytest
import torch
from torch import nn


def _torchvision_like_vgg(convs_per_block, classes):
    """A module with torchvision's VGG layout and `state_dict` keys (`features.N`, `classifier.N`)."""
    features, channels = [], 3
    for filters, convs in zip((64, 128, 256, 512, 512), convs_per_block):
        for _ in range(convs):
            features += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(inplace=True)]
            channels = filters
        features.append(nn.MaxPool2d(2, 2))
    module = nn.Module()
    module.features = nn.Sequential(*features)
    module.classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, classes),
    )  # fmt: skip
    return module


def test_vgg16_features_from_torchvision_layout():
    from keraslike.applications import vgg16

    torch.manual_seed(0)
    tv = _torchvision_like_vgg((2, 2, 3, 3, 3), classes=1000).eval()
    model = vgg16.from_torchvision(tv, include_top=False, input_shape=(32, 32, 3))
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = tv.features(x).permute(0, 2, 3, 1)  # NCHW -> NHWC
        got = model(x.permute(0, 2, 3, 1).contiguous())
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_fc1_flatten_order_conversion():
    from keraslike import layers
    from keraslike.applications.torchvision_import import nchw_flatten_to_nhwc

    torch.manual_seed(0)
    c, h, w = 5, 3, 2
    linear = nn.Linear(c * h * w, 4)
    dense = layers.Dense(4)
    dense.build((None, c * h * w))
    kernel = nchw_flatten_to_nhwc(linear.weight.detach().numpy(), c, h, w)
    dense.set_weights([kernel, linear.bias.detach().numpy()])
    x = torch.rand(2, c, h, w)
    with torch.no_grad():
        expected = linear(x.flatten(1))
        got = dense(x.permute(0, 2, 3, 1).reshape(2, -1))  # Keras's channels-last Flatten
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)


def test_batchnorm_variant_is_rejected():
    from keraslike.applications import vgg16

    state = _torchvision_like_vgg((2, 2, 3, 3, 3), classes=10).state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("features.2")}
    with pytest.raises(ValueError, match="convolutions"):
        vgg16.from_torchvision(state, include_top=False, input_shape=(32, 32, 3))


def test_real_torchvision_vgg16():
    torchvision = pytest.importorskip("torchvision")
    from keraslike.applications import vgg16

    tv = torchvision.models.vgg16(weights=None).eval()
    model = vgg16.from_torchvision(tv, include_top=False, input_shape=(32, 32, 3))
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        np.testing.assert_allclose(
            model(x.permute(0, 2, 3, 1).contiguous()).numpy(),
            tv.features(x).permute(0, 2, 3, 1).numpy(),
            atol=1e-5,
        )
