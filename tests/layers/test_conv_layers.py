"""Parity of the convolution layers with Keras 3, gradchecks, weight layouts and bad inputs."""

import numpy as np
import pytest
import torch
from torch import nn

import keraslike
from tests.layer_harness import check_layer

CL, CF = "channels_last", "channels_first"


def _ids(cases):
    return [f"{c[0] if isinstance(c[0], str) else 'Conv2D'}-{i}" for i, c in enumerate(cases)]


CONV2D_CASES = [
    # (kwargs, input shape)
    ({"filters": 4, "kernel_size": 3}, (2, 7, 8, 3)),
    ({"filters": 4, "kernel_size": 3, "padding": "same"}, (2, 7, 8, 3)),
    ({"filters": 4, "kernel_size": 2, "padding": "same"}, (2, 7, 8, 3)),  # even kernel
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 8, 8, 3)),  # even
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 3)),  # odd
    ({"filters": 4, "kernel_size": 4, "strides": 2, "padding": "same"}, (2, 9, 8, 3)),
    ({"filters": 4, "kernel_size": (3, 1), "strides": (2, 1), "padding": "same"}, (2, 6, 5, 3)),
    ({"filters": 4, "kernel_size": 3, "strides": 2}, (2, 9, 8, 3)),
    ({"filters": 4, "kernel_size": 3, "dilation_rate": 2}, (2, 9, 9, 3)),
    ({"filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 7, 6, 3)),
    ({"filters": 4, "kernel_size": 2, "dilation_rate": (2, 1), "padding": "same"}, (2, 7, 6, 3)),
    ({"filters": 6, "kernel_size": 3, "groups": 2}, (2, 6, 6, 4)),
    ({"filters": 4, "kernel_size": 3, "use_bias": False, "activation": "relu"}, (2, 6, 6, 3)),
    ({"filters": 4, "kernel_size": 3, "data_format": CF}, (2, 3, 7, 8)),
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "data_format": CF},
     (2, 3, 8, 7)),
    ({"filters": 6, "kernel_size": 2, "padding": "same", "data_format": CF, "groups": 3},
     (2, 3, 5, 5)),
    ({"filters": 2, "kernel_size": 1, "padding": "SAME"}, (2, 4, 4, 3)),
]


@pytest.mark.parametrize("kwargs,shape", CONV2D_CASES, ids=_ids(CONV2D_CASES))
def test_conv2d_parity(kwargs, shape):
    check_layer("Conv2D", kwargs, shape, rtol=1e-4, atol=1e-5)


CONV_TRANSPOSE_CASES = [
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3}, (2, 5, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 5, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"},
     (2, 5, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same"},
     (2, 3, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 1, "strides": 3}, (2, 3, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1},
     (2, 3, 4, 2)),
    ("Conv2DTranspose",
     {"filters": 3, "kernel_size": 3, "strides": 3, "padding": "same", "output_padding": (0, 2)},
     (2, 3, 4, 2)),
    ("Conv2DTranspose",
     {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 1},
     (2, 3, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
     (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2}, (2, 4, 5, 2)),
    ("Conv2DTranspose",
     {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "data_format": CF},
     (2, 2, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "use_bias": False, "activation": "tanh"},
     (2, 4, 4, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 5, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 5, "strides": 2, "output_padding": 1},
     (2, 5, 2)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 4, "data_format": CF}, (2, 2, 5)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
     (1, 3, 4, 3, 2)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": (1, 2, 2)}, (1, 3, 4, 3, 2)),
]


@pytest.mark.parametrize(
    "name,kwargs,shape", CONV_TRANSPOSE_CASES, ids=_ids(CONV_TRANSPOSE_CASES)
)
def test_conv_transpose_parity(name, kwargs, shape):
    check_layer(name, kwargs, shape, rtol=1e-4, atol=1e-5)


CONV_CASES = [
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal"}, (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
     (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "padding": "causal", "strides": 2}, (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 4, "padding": "same", "strides": 2}, (2, 10, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "padding": "same"}, (2, 9, 3)),
    ("Conv1D", {"filters": 6, "kernel_size": 3, "groups": 3, "data_format": CF}, (2, 3, 9)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "data_format": CF},
     (2, 3, 9)),
    ("Conv3D", {"filters": 2, "kernel_size": 3}, (1, 5, 6, 5, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"},
     (1, 5, 6, 5, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": (3, 2, 1), "padding": "same", "data_format": CF},
     (1, 2, 4, 5, 3)),
    ("Conv3D", {"filters": 4, "kernel_size": 1, "groups": 2, "use_bias": False}, (1, 3, 3, 3, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (2, 6, 7, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"},
     (2, 6, 7, 3)),
    ("DepthwiseConv2D", {"kernel_size": 2, "depth_multiplier": 3, "padding": "same",
                         "data_format": CF}, (2, 2, 5, 6)),
    ("DepthwiseConv2D", {"kernel_size": 3, "dilation_rate": 2, "use_bias": False},
     (2, 7, 7, 2)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2}, (2, 8, 3)),
    ("DepthwiseConv1D", {"kernel_size": 4, "strides": 2, "padding": "same", "data_format": CF},
     (2, 3, 9)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3}, (2, 6, 7, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "strides": 2,
                         "padding": "same"}, (2, 6, 7, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 2, "padding": "same", "data_format": CF,
                         "use_bias": False, "activation": "relu"}, (2, 3, 5, 6)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
     (2, 9, 3)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2,
                         "data_format": CF}, (2, 3, 9)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_CASES, ids=_ids(CONV_CASES))
def test_conv_family_parity(name, kwargs, shape):
    check_layer(name, kwargs, shape, rtol=1e-4, atol=1e-5)


def test_conv_regularizers_constraints_config():
    check_layer(
        "Conv2D",
        {
            "filters": 2,
            "kernel_size": 3,
            "kernel_regularizer": "l2",
            "bias_regularizer": "l1",
            "activity_regularizer": "l2",
            "kernel_constraint": "max_norm",
            "bias_constraint": "non_neg",
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
        },
        (2, 5, 5, 3),
    )
    check_layer(
        "SeparableConv2D",
        {"filters": 2, "kernel_size": 3, "depthwise_regularizer": "l2",
         "pointwise_constraint": "unit_norm", "pointwise_initializer": "zeros"},
        (2, 5, 5, 3),
    )  # fmt: skip


def test_regularizer_losses_match_keras(keras_oracle):
    keras = keras_oracle
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype("float32")
    theirs = keras.layers.Conv2D(2, 3, kernel_regularizer="l2")
    theirs(x)
    ours = keraslike.layers.Conv2D(2, 3, kernel_regularizer="l2")
    ours(torch.as_tensor(x))
    ours.set_weights(theirs.get_weights())
    ours_loss, theirs_loss = float(ours.losses[0].detach()), float(theirs.losses[0].detach())
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-5)


# ---------------------------------------------------------------- torch layouts


def test_conv2d_state_dict_loads_into_nn_conv2d():
    layer = keraslike.layers.Conv2D(5, 3, strides=1, padding="same", groups=1)
    x = torch.randn(2, 6, 7, 4)
    y = layer(x)
    ref = nn.Conv2d(4, 5, 3, padding=1)
    ref.load_state_dict(layer.state_dict())
    torch.testing.assert_close(y, ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    assert tuple(layer.kernel.shape) == (3, 3, 4, 5)
    assert tuple(layer.weight.shape) == (5, 4, 3, 3)


def test_conv_transpose_state_dict_loads_into_nn_conv_transpose():
    layer = keraslike.layers.Conv2DTranspose(5, 4, strides=2, padding="same")
    x = torch.randn(2, 3, 4, 6)
    y = layer(x)
    assert tuple(y.shape) == (2, 6, 8, 5)
    assert tuple(layer.kernel.shape) == (4, 4, 5, 6)
    ref = nn.ConvTranspose2d(6, 5, 4, stride=2, padding=1)
    ref.load_state_dict(layer.state_dict())
    torch.testing.assert_close(y, ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


def test_depthwise_state_dict_loads_into_grouped_conv():
    layer = keraslike.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    x = torch.randn(2, 5, 5, 4)
    y = layer(x)
    ref = nn.Conv2d(4, 8, 3, padding=1, groups=4)
    ref.load_state_dict(layer.state_dict())
    torch.testing.assert_close(y, ref(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    kernel = layer.kernel.detach()
    assert tuple(kernel.shape) == (3, 3, 4, 2)
    # Output channel c * dm + m is Keras's kernel[..., c, m].
    torch.testing.assert_close(layer.weight[2 * 2 + 1, 0], kernel[:, :, 2, 1])
    # set_weights round trip through the layout.
    layer.set_weights(layer.get_weights())
    torch.testing.assert_close(layer(x), y)


def test_channels_last_conv_makes_no_weight_copy_per_call():
    layer = keraslike.layers.Conv2D(4, 3, padding="same")
    x = torch.randn(2, 8, 8, 3)
    layer(x)
    ptr = layer.weight.data_ptr()
    y = layer(x)
    assert layer.weight.data_ptr() == ptr
    assert y.is_contiguous()  # NHWC result, from a channels_last NCHW conv output


# ---------------------------------------------------------------- gradients


def test_gradcheck_conv2d_same_stride2():
    layer = keraslike.layers.Conv2D(2, 3, strides=2, padding="same", dtype="float64")
    x = torch.randn(1, 6, 5, 2, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert torch.autograd.gradcheck(lambda inp, w, b: _call_with(layer, inp, w, b),
                                    (x, layer.weight, layer.bias))  # fmt: skip


def test_gradcheck_conv2d_transpose():
    layer = keraslike.layers.Conv2DTranspose(2, 3, strides=2, padding="same", dtype="float64")
    x = torch.randn(1, 3, 4, 2, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert torch.autograd.gradcheck(lambda inp, w, b: _call_with(layer, inp, w, b),
                                    (x, layer.weight, layer.bias))  # fmt: skip


def test_gradcheck_separable_causal():
    layer = keraslike.layers.Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = torch.randn(1, 7, 2, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert torch.autograd.gradcheck(lambda inp, w, b: _call_with(layer, inp, w, b),
                                    (x, layer.weight, layer.bias))  # fmt: skip


def _call_with(layer, x, weight, bias):
    return torch.func.functional_call(layer, {"weight": weight, "bias": bias}, (x,))


# ---------------------------------------------------------------- symbolic use


def test_symbolic_dynamic_spatial_dims_and_model():
    inputs = keraslike.Input(shape=(None, None, 3))
    x = keraslike.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    assert x.shape == (None, None, None, 4)
    x = keraslike.layers.Conv2DTranspose(2, 3, strides=2, padding="same")(x)
    assert x.shape == (None, None, None, 2)
    model = keraslike.Model(inputs, x)
    assert tuple(model(torch.randn(1, 7, 9, 3)).shape) == (1, 8, 10, 2)
    assert tuple(model(torch.randn(1, 8, 6, 3)).shape) == (1, 8, 6, 2)


def test_conv_under_torch_compile():
    layer = keraslike.layers.Conv2D(3, 3, strides=2, padding="same")
    x = torch.randn(2, 8, 8, 2)
    expected = layer(x)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), expected)


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"filters": 0, "kernel_size": 3}, "filters"),
        ({"filters": -2, "kernel_size": 3}, "filters"),
        ({"filters": 2, "kernel_size": 0}, "kernel_size"),
        ({"filters": 2, "kernel_size": (3, -1)}, "kernel_size"),
        ({"filters": 2, "kernel_size": (3, 3, 3)}, "kernel_size"),
        ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding"),
        ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "padding"),
        ({"filters": 2, "kernel_size": 3, "data_format": "NHWC"}, "data_format"),
        ({"filters": 3, "kernel_size": 3, "groups": 2}, "groups"),
        ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ],
)
def test_conv2d_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        keraslike.layers.Conv2D(name="bad_conv", **kwargs)


def test_bad_argument_message_names_layer():
    with pytest.raises(ValueError, match='Conv2D layer "my_conv".*filters=0'):
        keraslike.layers.Conv2D(0, 3, name="my_conv")
    with pytest.raises(ValueError, match='Conv2DTranspose layer "up".*output_padding'):
        keraslike.layers.Conv2DTranspose(2, 3, strides=2, output_padding=2, name="up")
    with pytest.raises(ValueError, match='DepthwiseConv2D layer "dw".*depth_multiplier'):
        keraslike.layers.DepthwiseConv2D(3, depth_multiplier=0, name="dw")
    with pytest.raises(ValueError, match='Conv1D layer "c1".*data_format.*nwc'):
        keraslike.layers.Conv1D(2, 3, data_format="NWC", name="c1")
    with pytest.raises(ValueError, match='SeparableConv2D layer "sep".*padding.*causal'):
        keraslike.layers.SeparableConv2D(2, 3, padding="causal", name="sep")


def test_conv2d_wrong_rank_is_keras_input_spec_error():
    layer = keraslike.layers.Conv2D(2, 3, name="conv_a")
    message = 'layer "conv_a" is incompatible.*expected min_ndim=4, found ndim=2'
    with pytest.raises(ValueError, match=message):
        layer(torch.randn(2, 5))
    with pytest.raises(ValueError, match='layer "conv_a".*min_ndim=4'):
        layer(keraslike.Input(shape=(5,)))
    with pytest.raises(ValueError, match='Conv2D layer "conv_a".*rank 4'):
        layer(torch.randn(2, 5, 5, 5, 3))


def test_kernel_larger_than_input_with_valid_padding():
    layer = keraslike.layers.Conv2D(2, 5, name="big_kernel")
    with pytest.raises(ValueError, match=r'"big_kernel".*kernel_size=\(5, 5\).*\(4, 6\)'):
        layer(torch.randn(1, 4, 6, 3))
    layer = keraslike.layers.Conv1D(2, 4, dilation_rate=3, name="dilated")
    with pytest.raises(ValueError, match=r'"dilated".*dilation_rate=\(3,\)'):
        layer(keraslike.Input(shape=(9, 3)))
    # "same" pads instead: fine.
    same = keraslike.layers.Conv2D(2, 5, padding="same")
    assert tuple(same(torch.randn(1, 4, 6, 3)).shape) == (1, 4, 6, 2)


def test_channel_mismatch_after_build():
    layer = keraslike.layers.Conv2D(2, 3, name="conv_c")
    layer(torch.randn(1, 5, 5, 3))
    with pytest.raises(ValueError, match='"conv_c".*axis -1'):
        layer(torch.randn(1, 5, 5, 4))
