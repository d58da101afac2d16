"""Parity of the reshaping layers (Permute, RepeatVector, Cropping, ZeroPadding, UpSampling)."""

import pytest
import torch

import keraslike
from tests.layer_harness import check_layer

CF = "channels_first"

CASES = [
    ("UpSampling2D", {}, (2, 3, 4, 3)),
    ("UpSampling2D", {"size": (2, 3)}, (2, 3, 4, 3)),
    ("UpSampling2D", {"size": 3, "data_format": CF}, (2, 3, 4, 5)),
    ("UpSampling2D", {"size": 2, "interpolation": "bilinear"}, (2, 3, 4, 3)),
    ("UpSampling2D", {"size": (3, 2), "interpolation": "bilinear", "data_format": CF},
     (2, 3, 4, 5)),
    ("UpSampling2D", {"size": 2, "interpolation": "bicubic"}, (1, 4, 4, 2)),
    ("UpSampling2D", {"size": 7}, (1, 3, 5, 2)),
    ("UpSampling1D", {}, (2, 4, 3)),
    ("UpSampling1D", {"size": 3}, (2, 4, 3)),
    ("UpSampling3D", {}, (1, 2, 3, 4, 2)),
    ("UpSampling3D", {"size": (1, 2, 3), "data_format": CF}, (1, 2, 2, 3, 4)),
    ("Permute", {"dims": (2, 1)}, (2, 3, 4)),
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
    ("RepeatVector", {"n": 3}, (2, 4)),
    ("Cropping1D", {}, (2, 5, 3)),
    ("Cropping1D", {"cropping": (0, 2)}, (2, 5, 3)),
    ("Cropping1D", {"cropping": 2}, (2, 5, 3)),
    ("Cropping2D", {}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": 1}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": ((1, 0), (0, 2))}, (2, 5, 6, 3)),
    ("Cropping2D", {"cropping": (1, 2), "data_format": CF}, (2, 3, 5, 6)),
    ("Cropping3D", {}, (1, 4, 5, 6, 2)),
    ("Cropping3D", {"cropping": ((0, 1), 2, (1, 0)), "data_format": CF}, (1, 2, 4, 5, 6)),
    ("ZeroPadding1D", {}, (2, 4, 3)),
    ("ZeroPadding1D", {"padding": (0, 2), "data_format": CF}, (2, 3, 4)),
    ("ZeroPadding2D", {}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": ((1, 0), (2, 3))}, (2, 3, 4, 2)),
    ("ZeroPadding2D", {"padding": 2, "data_format": CF}, (2, 2, 3, 4)),
    ("ZeroPadding3D", {}, (1, 2, 3, 4, 2)),
    ("ZeroPadding3D", {"padding": (1, 0, 2), "data_format": CF}, (1, 2, 2, 3, 4)),
]


@pytest.mark.parametrize(
    "name,kwargs,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_reshaping_parity(name, kwargs, shape):
    check_layer(name, kwargs, shape, rtol=1e-5, atol=1e-5)


def test_flatten_and_reshape_still_work():
    check_layer("Flatten", {}, (2, 3, 4))
    check_layer("Reshape", {"target_shape": (6, 2)}, (2, 3, 4))


def test_cnn_decoder_shapes_symbolic_with_unknown_sizes():
    inputs = keraslike.Input(shape=(None, None, 3))
    x = keraslike.layers.ZeroPadding2D(1)(inputs)
    x = keraslike.layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = keraslike.layers.Cropping2D(((1, 1), (2, 2)))(x)
    assert x.shape == (None, None, None, 3)
    model = keraslike.Model(inputs, x)
    assert tuple(model(torch.randn(1, 4, 5, 3)).shape) == (1, 10, 10, 3)


def test_upsampling_gradcheck_bilinear():
    layer = keraslike.layers.UpSampling2D(2, interpolation="bilinear", dtype="float64")
    x = torch.randn(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))


def test_reshaping_bad_inputs():
    with pytest.raises(ValueError, match='Permute layer "perm".*dims'):
        keraslike.layers.Permute((0, 1), name="perm")
    with pytest.raises(TypeError, match='"rep".*`n`'):
        keraslike.layers.RepeatVector(2.0, name="rep")
    with pytest.raises(ValueError, match='RepeatVector layer "rep2".*n=0'):
        keraslike.layers.RepeatVector(0, name="rep2")
    with pytest.raises(ValueError, match='Cropping2D layer "crop".*cropping'):
        keraslike.layers.Cropping2D(cropping=(1, 2, 3), name="crop")
    with pytest.raises(ValueError, match='Cropping1D layer "crop1".*smaller'):
        keraslike.layers.Cropping1D((2, 3), name="crop1")(torch.randn(1, 5, 2))
    with pytest.raises(ValueError, match='"crop3".*smaller'):
        keraslike.layers.Cropping3D(2, name="crop3")(keraslike.Input(shape=(4, 8, 8, 1)))
    with pytest.raises(ValueError, match='ZeroPadding2D layer "zp".*padding'):
        keraslike.layers.ZeroPadding2D(padding=(1, -1), name="zp")
    with pytest.raises(ValueError, match='UpSampling2D layer "up".*interpolation'):
        keraslike.layers.UpSampling2D(interpolation="lanczos3", name="up")
    with pytest.raises(ValueError, match='UpSampling3D layer "up3".*size'):
        keraslike.layers.UpSampling3D(size=(2, 2), name="up3")
    with pytest.raises(ValueError, match='layer "up2" is incompatible.*expected ndim=4'):
        keraslike.layers.UpSampling2D(name="up2")(torch.randn(1, 4, 4))
