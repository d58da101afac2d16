"""Parity of keraslike.ops' neural-network ops with Keras 3 (torch backend), eager and in a graph."""

import warnings

import numpy as np
import pytest
import torch

import keraslike
from keraslike import ops
from tests.ops.harness import case, check_eager, check_symbolic, f, ints, pos

ACTIVATIONS = [
    "relu", "relu6", "sigmoid", "tanh", "softplus", "softsign", "silu", "swish", "gelu", "elu",
    "selu", "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "celu",
    "hard_tanh", "soft_shrink", "hard_shrink", "tanh_shrink", "squareplus", "sparse_plus",
    "sparse_sigmoid",
]

CASES = (
    [case(n, f(4, 6) * 3) for n in ACTIVATIONS]
    + [
        case("gelu", f(4, 6), approximate=False, id="gelu-exact"),
        case("elu", f(4, 6), alpha=0.5, id="elu-alpha"),
        case("leaky_relu", f(4, 6), negative_slope=0.1, id="leaky_relu-slope"),
        case("glu", f(4, 6)),
        case("softmax", f(4, 6)),
        case("softmax", f(4, 3, 5), axis=1, id="softmax-axis1"),
        case("softmax", f(4, 3, 5), axis=(1, 2), id="softmax-axes"),
        case("log_softmax", f(4, 6)),
        case("log_softmax", f(4, 3, 5), axis=(1, 2), id="log_softmax-axes"),
        case("one_hot", ints(4, 3, high=5), 5),
        case("one_hot", ints(4, 3, high=5), 5, axis=1, dtype="int32", id="one_hot-axis"),
        case("multi_hot", ints(4, 3, high=5), 5),
        case("multi_hot", ints(4, 3, high=5), num_classes=6, dtype="int32", id="multi_hot-dtype"),
        case("normalize", f(4, 6)),
        case("normalize", f(4, 6), axis=0, order=1, sym=0, id="normalize-l1"),
        case("binary_crossentropy", pos(4, 3) / 2, pos(4, 3) / 2, sym=2),
        case("binary_crossentropy", pos(4, 3) / 2, f(4, 3), from_logits=True, sym=2, id="bce-logits"),
        case("categorical_crossentropy", pos(4, 5), pos(4, 5), sym=2),
        case("categorical_crossentropy", pos(4, 5), f(4, 5), from_logits=True, sym=2, id="cce-logits"),
        case("sparse_categorical_crossentropy", ints(4, high=5), pos(4, 5), sym=2),
        case("sparse_categorical_crossentropy", ints(4, 1, high=5), f(4, 5), from_logits=True,
             sym=2, id="scce-logits"),
        case("sparse_categorical_crossentropy", ints(4, 3, high=5), f(4, 5, 3), from_logits=True,
             axis=1, sym=2, id="scce-axis1"),
        case("moments", f(4, 3, 5), axes=(0, 2)),
        case("moments", f(4, 3, 5), axes=[1], keepdims=True, id="moments-keep"),
        case("batch_normalization", f(4, 3), pos(3), pos(3), axis=-1, offset=f(3), scale=pos(3)),
        case("batch_normalization", f(4, 3, 5), f(3), pos(3), 1, epsilon=0.1, id="bn-axis1"),
    ]
)


@pytest.mark.parametrize("name,args,kwargs,sym,tol,check_dtype", CASES)
def test_nn_op_parity(keras_oracle, name, args, kwargs, sym, tol, check_dtype):
    check_eager(keras_oracle, name, args, kwargs, tol=tol, check_dtype=check_dtype)
    check_symbolic(keras_oracle, name, args, kwargs, sym=sym, tol=tol)


CONV_CASES = [
    case("conv", f(2, 9, 3), f(3, 3, 4), id="conv1d"),
    case("conv", f(2, 9, 3), f(3, 3, 4), strides=2, padding="same", id="conv1d-same-s2"),
    case("conv", f(2, 8, 7, 3), f(3, 3, 3, 4), tol=1e-4, id="conv2d"),
    case("conv", f(2, 8, 7, 3), f(3, 2, 3, 4), strides=2, padding="same", tol=1e-4, id="conv2d-same"),
    case("conv", f(2, 8, 7, 3), f(3, 3, 3, 4), padding="same", dilation_rate=2, tol=1e-4, id="conv2d-dilated"),
    case("conv", f(2, 3, 8, 7), f(3, 3, 3, 4), data_format="channels_first", tol=1e-4, id="conv2d-cf"),
    case("conv", f(2, 5, 6, 5, 2), f(2, 3, 2, 2, 3), padding="same", tol=1e-4, id="conv3d"),
    case("depthwise_conv", f(2, 8, 7, 3), f(3, 3, 3, 2), tol=1e-4),
    case("depthwise_conv", f(2, 8, 7, 3), f(3, 3, 3, 1), strides=2, padding="same", tol=1e-4, id="depthwise-same"),
    case("separable_conv", f(2, 8, 7, 3), f(3, 3, 3, 2), f(1, 1, 6, 5), tol=1e-4),
    case("conv_transpose", f(2, 5, 4, 3), f(3, 3, 6, 3), tol=1e-4),
    case("conv_transpose", f(2, 5, 4, 3), f(3, 3, 6, 3), strides=2, padding="same", tol=1e-4, id="convT-same-s2"),
    case("conv_transpose", f(2, 5, 4, 3), f(4, 4, 6, 3), strides=2, padding="same", tol=1e-4, id="convT-even"),
    case("conv_transpose", f(2, 5, 4, 3), f(3, 3, 6, 3), strides=2, output_padding=1, tol=1e-4, id="convT-outpad"),
    case("conv_transpose", f(2, 7, 3), f(3, 2, 3), strides=3, padding="valid", tol=1e-4, id="convT1d"),
    case("max_pool", f(2, 8, 7, 3), 2),
    case("max_pool", f(2, 8, 7, 3), (3, 2), strides=(1, 2), id="max_pool-strides"),
    case("max_pool", f(2, 9, 3), 3, strides=2, padding="same", id="max_pool1d-same"),
    case("max_pool", f(2, 8, 7, 3), 3, strides=2, padding="same", id="max_pool2d-same"),
    case("average_pool", f(2, 8, 7, 3), 2),
    case("average_pool", f(2, 9, 7, 3), 3, strides=1, padding="same", id="avg_pool-same-sym"),
    case("average_pool", f(2, 3, 8, 6), 2, data_format="channels_first", id="avg_pool-cf"),
]


@pytest.mark.parametrize("name,args,kwargs,sym,tol,check_dtype", CONV_CASES)
def test_conv_pool_parity(keras_oracle, name, args, kwargs, sym, tol, check_dtype):
    check_eager(keras_oracle, name, args, kwargs, tol=tol, check_dtype=check_dtype)
    check_symbolic(keras_oracle, name, args, kwargs, sym=sym, tol=tol)


def test_average_pool_same_excludes_padding():
    # TensorFlow semantics: windows hanging over the edge average their real elements only.
    x = torch.arange(1.0, 6.0).reshape(1, 5, 1)
    out = ops.average_pool(x, 2, strides=2, padding="same")
    torch.testing.assert_close(out.reshape(-1), torch.tensor([1.5, 3.5, 5.0]))
    x2 = torch.from_numpy(f(2, 6, 5, 3))
    out2 = ops.average_pool(x2, 3, strides=2, padding="same")
    layer = keraslike.layers.AveragePooling2D(3, strides=2, padding="same")
    torch.testing.assert_close(out2, layer(x2))
    out3 = ops.max_pool(x2, 3, strides=2, padding="same")
    torch.testing.assert_close(out3, keraslike.layers.MaxPooling2D(3, strides=2, padding="same")(x2))


ATTENTION = [
    {},
    {"is_causal": True},
    {"scale": 0.3},
    {"mask": "bool"},
    {"mask": "bool", "is_causal": True},
    {"bias": "float"},
]


@pytest.mark.parametrize("options", ATTENTION, ids=[str(o) for o in ATTENTION])
def test_dot_product_attention(keras_oracle, options):
    q, k, v = f(2, 5, 4, 8), f(2, 6, 4, 8), f(2, 6, 4, 8)
    kwargs = dict(options)
    if kwargs.get("mask") == "bool":
        mask = np.random.RandomState(1).rand(2, 1, 5, 6) > 0.3
        mask[..., 0] = True
        kwargs["mask"] = torch.from_numpy(mask)
    if kwargs.get("bias") == "float":
        kwargs["bias"] = torch.from_numpy(f(1, 4, 5, 6))
    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    theirs = keras_oracle.ops.dot_product_attention(tq, tk, tv, **kwargs)
    ours = ops.dot_product_attention(tq, tk, tv, **kwargs)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    if "mask" in kwargs:
        kwargs["mask"] = kwargs["mask"][:1]  # a constant must broadcast over the unknown batch
    iq = keraslike.Input((5, 4, 8))
    ik = keraslike.Input((6, 4, 8))
    out = ops.dot_product_attention(iq, ik, ik, **kwargs)
    model = keraslike.Model([iq, ik], out)
    torch.testing.assert_close(model([tq, tk]), ops.dot_product_attention(tq, tk, tk, **kwargs))
    assert out.shape == (None, 5, 4, 8)


def test_dot_product_attention_gqa_and_soft_cap(keras_oracle):
    q, k, v = (torch.from_numpy(a) for a in (f(2, 5, 4, 8), f(2, 6, 2, 8), f(2, 6, 2, 8)))
    torch.testing.assert_close(
        ops.dot_product_attention(q, k, v), keras_oracle.ops.dot_product_attention(q, k, v)
    )
    capped = ops.dot_product_attention(q, k, v, attn_logits_soft_cap=1e6)
    torch.testing.assert_close(capped, ops.dot_product_attention(q, k, v), rtol=1e-4, atol=1e-5)
    small = ops.dot_product_attention(q, k, v, attn_logits_soft_cap=0.5)
    assert small.shape == q.shape and not torch.allclose(small, capped)


def test_sparsemax_projects_onto_simplex():
    # Keras's torch sparsemax sums cumulative sums for its threshold; this is the textbook one.
    x = torch.from_numpy(f(5, 6) * 2)
    out = ops.sparsemax(x)
    torch.testing.assert_close(out.sum(-1), torch.ones(5))
    z, _ = torch.sort(x, dim=-1, descending=True)
    k = torch.arange(1, 7, dtype=x.dtype)
    support = 1 + k * z > torch.cumsum(z, -1)
    k_max = support.sum(-1, keepdim=True)
    tau = (torch.gather(torch.cumsum(z, -1), -1, k_max - 1) - 1) / k_max
    torch.testing.assert_close(out, torch.clamp(x - tau, min=0))


def test_one_hot_out_of_range_gives_zeros():
    out = ops.one_hot(torch.tensor([0, -1, 4, 7]), 5)
    expected = torch.zeros(4, 5)
    expected[0, 0] = expected[2, 4] = 1
    torch.testing.assert_close(out, expected)


def test_grouped_conv():
    x, kernel = torch.from_numpy(f(2, 8, 7, 4)), torch.from_numpy(f(3, 3, 2, 6))
    out = ops.conv(x, kernel, padding="same")
    expected = torch.nn.functional.conv2d(
        x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), padding=1, groups=2
    ).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, expected)


def test_softmax_over_an_axis_of_size_one_warns_like_keras():
    # keras-io's endpoint layer pattern takes a softmax of one logit (always 1): Keras warns.
    with pytest.warns(UserWarning, match="softmax over axis -1 .* This axis has size 1"):
        out = keraslike.ops.softmax(torch.zeros(3, 1))
    assert torch.equal(out, torch.ones(3, 1))
    with pytest.warns(UserWarning, match="has size 1"):  # eager only, as in Keras
        keraslike.layers.Dense(1, activation="softmax")(np.ones((2, 4), "float32"))
    with pytest.warns(UserWarning, match="has size 1"):
        keraslike.activations.softmax(torch.zeros(2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keraslike.ops.softmax(torch.zeros(3, 2))
        keraslike.ops.softmax(torch.zeros(3, 1), axis=0)
        keraslike.ops.softmax(torch.zeros(3, 1), axis=None)
        keraslike.layers.Dense(1, activation="softmax")(keraslike.Input((4,)))
