"""Normalization layers against Keras 3: outputs, moving statistics, freezing, gradients, errors."""

import numpy as np
import pytest
import torch
from torch import nn

import keraslike
from keraslike import layers
from tests.layer_harness import check_layer

RANDOM_STATS = {
    "gamma_initializer": {"class_name": "RandomUniform", "config": {"minval": 0.5, "maxval": 1.5}},
    "beta_initializer": "random_normal",
    "moving_mean_initializer": "random_normal",
    "moving_variance_initializer": {
        "class_name": "RandomUniform",
        "config": {"minval": 0.5, "maxval": 2.0},
    },
}

BN_CASES = [
    ({}, (4, 5)),
    ({}, (4, 3, 5)),
    ({}, (3, 4, 5, 6)),
    ({"axis": 1}, (3, 4, 5, 2)),
    ({"axis": 2}, (3, 4, 5)),
    ({"axis": -2, "epsilon": 1e-5}, (3, 4, 5)),
    ({"center": False}, (4, 6)),
    ({"scale": False}, (4, 3, 6)),
    ({"center": False, "scale": False}, (4, 6)),
    ({"momentum": 0.9}, (2, 3, 3, 4)),
]


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("kwargs,shape", BN_CASES, ids=[f"{k}-{s}" for k, s in BN_CASES])
def test_batch_norm_parity(kwargs, shape, training):
    check_layer("BatchNormalization", {**RANDOM_STATS, **kwargs}, shape,
                call_kwargs={"training": training})


def _paired_bn(kwargs, shape):
    """A Keras BN and ours, built, with the same (Keras-initialized) weights."""
    import keras

    theirs = keras.layers.BatchNormalization(**kwargs)
    theirs.build(shape)
    ours = layers.BatchNormalization(**kwargs)
    ours.build(shape)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (8, 5)),
        ({}, (4, 3, 3, 5)),  # channels_last images: the fused kernel path
        ({"axis": 1, "momentum": 0.8}, (4, 5, 3, 3)),
        ({"center": False, "scale": False}, (6, 2, 4)),
        ({}, (1, 5)),  # one value per channel: torch's kernel refuses, our own path runs
        ({"renorm": True, "renorm_clipping": {"rmax": 1.5, "rmin": 0.5, "dmax": 0.3}}, (8, 4)),
    ],
)
def test_batch_norm_moving_statistics_match_keras(kwargs, shape):
    import keras

    kwargs = {**RANDOM_STATS, **kwargs}
    ours, theirs = _paired_bn(kwargs, shape)
    rng = np.random.default_rng(1)
    for step in range(3):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype("float32")
        out = ours(torch.as_tensor(x), training=True)
        expected = theirs(keras.ops.convert_to_tensor(x), training=True)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().cpu().numpy(),
                                   rtol=1e-4, atol=1e-4)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # and inference with the learned statistics
    x = rng.standard_normal(shape).astype("float32")
    np.testing.assert_allclose(
        ours(torch.as_tensor(x)).detach().numpy(),
        theirs(keras.ops.convert_to_tensor(x)).detach().cpu().numpy(),
        rtol=1e-5, atol=1e-5,
    )


def test_batch_norm_uses_biased_variance_and_keras_momentum():
    layer = layers.BatchNormalization(momentum=0.9)
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
    layer(x, training=True)
    torch.testing.assert_close(layer.running_mean, 0.1 * x.mean(0))
    torch.testing.assert_close(layer.running_var, 0.9 + 0.1 * x.var(0, unbiased=False))


def test_batch_norm_masked_statistics_match_keras():
    import keras

    shape = (3, 5, 4)
    ours, theirs = _paired_bn(RANDOM_STATS, shape)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype("float32")
    mask = rng.random(shape[:2]) > 0.4
    out = ours(torch.as_tensor(x), training=True, mask=torch.as_tensor(mask))
    expected = theirs(keras.ops.convert_to_tensor(x), training=True,
                      mask=keras.ops.convert_to_tensor(mask))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().cpu().numpy(),
                               rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="one dimension less"):
        ours(torch.as_tensor(x), training=True, mask=torch.ones(3, 5, 4, dtype=torch.bool))


def test_frozen_batch_norm_runs_in_inference_mode():
    import keras

    shape = (6, 4)
    ours, theirs = _paired_bn(RANDOM_STATS, shape)
    ours.trainable = False
    theirs.trainable = False
    before = [w.copy() for w in ours.get_weights()]
    x = np.random.default_rng(3).standard_normal(shape).astype("float32")
    out = ours(torch.as_tensor(x), training=True)
    inference = ours(torch.as_tensor(x), training=False)
    torch.testing.assert_close(out, inference)
    np.testing.assert_allclose(
        out.detach().numpy(),
        theirs(keras.ops.convert_to_tensor(x), training=True).detach().cpu().numpy(),
        rtol=1e-5, atol=1e-5,
    )
    for a, b in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert ours.trainable_weights == [] and len(ours.non_trainable_weights) == 4


def test_batch_norm_follows_module_training_flag_and_model_mode():
    inputs = keraslike.Input((3,))
    bn = layers.BatchNormalization()
    model = keraslike.Model(inputs, bn(inputs))
    x = torch.randn(5, 3) * 4 + 2
    model.eval()
    torch.testing.assert_close(model(x), x / (1 + 1e-3) ** 0.5)
    assert torch.equal(bn.running_mean, torch.zeros(3))
    model.train()
    out = model(x)
    torch.testing.assert_close(out.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    assert not torch.equal(bn.running_mean, torch.zeros(3))
    assert bn(x, training=False).shape == x.shape  # explicit argument wins over the mode


def test_batch_norm_storage_matches_torch_batchnorm():
    layer = layers.BatchNormalization(**RANDOM_STATS)
    x = torch.randn(2, 4, 4, 3)
    layer(x)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "running_var"]
    assert [w.path.split("/")[-1] for w in layer.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"
    ]
    torch_bn = nn.BatchNorm2d(3, eps=1e-3).eval()
    torch_bn.load_state_dict(layer.state_dict(), strict=False)
    expected = torch_bn(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer.moving_variance, layer.running_var)


def test_batch_norm_in_a_masked_graph_matches_keras():
    import keras

    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 4)).astype("float32")
    x[0, 4:] = 0.0
    x[2, 1] = 0.0

    def build(lib):
        inputs = lib.Input((6, 4))
        return lib.Model(inputs, lib.layers.BatchNormalization()(lib.layers.Masking()(inputs)))

    theirs, ours = build(keras), build(keraslike)
    expected = theirs(keras.ops.convert_to_tensor(x), training=True)
    out = ours(torch.as_tensor(x), training=True)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().cpu().numpy(),
                               rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_batch_norm_synchronized_single_process_group(tmp_path):
    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    config = layers.BatchNormalization(synchronized=True).get_config()
    assert config["synchronized"] is True
    plain = layers.BatchNormalization(**RANDOM_STATS)
    x = torch.randn(6, 3, 4)
    plain(x)
    synced = layers.BatchNormalization.from_config({**plain.get_config(), "synchronized": True})
    synced(x)
    synced.set_weights(plain.get_weights())
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)
    try:
        mask = torch.rand(6, 3) > 0.3
        for kwargs in ({}, {"mask": mask}):
            xs, xp = x.clone().requires_grad_(), x.clone().requires_grad_()
            out_s, out_p = synced(xs, training=True, **kwargs), plain(xp, training=True, **kwargs)
            torch.testing.assert_close(out_s, out_p, rtol=1e-5, atol=1e-5)
            weights = torch.randn(out_s.shape)
            (out_s * weights).sum().backward()
            (out_p * weights).sum().backward()
            torch.testing.assert_close(xs.grad, xp.grad, rtol=1e-4, atol=1e-5)
    finally:
        dist.destroy_process_group()
    for a, b in zip(synced.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_gradcheck(training):
    for axis, shape in ((-1, (4, 3)), (1, (3, 2, 2, 2))):
        layer = layers.BatchNormalization(axis=axis, dtype="float64", **RANDOM_STATS)
        x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        layer(x)
        params = (layer.weight, layer.bias)
        assert torch.autograd.gradcheck(
            lambda inp, *_: layer(inp, training=training), (x, *params)
        )


LN_CASES = [
    ({}, (2, 5)),
    ({}, (2, 3, 5)),
    ({"axis": [1, 2]}, (2, 3, 5)),
    ({"axis": [-2, -1]}, (2, 3, 4, 5)),
    ({"axis": 2, "epsilon": 1e-5}, (2, 3, 5)),
    ({"center": False}, (2, 3, 5)),
    ({"scale": False}, (2, 3, 5)),
    ({"center": False, "scale": False}, (2, 5)),
    ({"rms_scaling": True}, (2, 3, 5)),
]


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("kwargs,shape", LN_CASES, ids=[f"{k}-{s}" for k, s in LN_CASES])
def test_layer_norm_parity(kwargs, shape):
    init = {"gamma_initializer": "random_normal", "beta_initializer": "random_normal"}
    check_layer("LayerNormalization", {**init, **kwargs}, shape)


@pytest.mark.parametrize("axis,shape", [(1, (2, 3, 5)), ([1, 3], (2, 3, 4, 5)), (0, (3, 4))])
def test_layer_norm_non_trailing_axes(axis, shape):
    # Keras 3's torch backend sends these to F.layer_norm with the wrong shape and fails; the
    # expected values are Keras's math (its TensorFlow/JAX result), written out in numpy.
    layer = layers.LayerNormalization(axis=axis, gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    x = np.random.default_rng(5).standard_normal(shape).astype("float64")
    out = layer(torch.as_tensor(x, dtype=torch.float32)).detach().numpy()
    axes = tuple(axis) if isinstance(axis, list) else (axis,)
    bshape = [1] * len(shape)
    for a in axes:
        bshape[a] = shape[a]
    gamma, beta = (w.reshape(bshape) for w in layer.get_weights())
    mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta,
                               rtol=1e-5, atol=1e-5)
    assert layer.get_config()["axis"] == sorted(axes)


def test_layer_norm_state_dict_loads_into_torch_layernorm():
    layer = layers.LayerNormalization(axis=[-2, -1], gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    x = torch.randn(2, 3, 4)
    layer(x)
    torch_ln = nn.LayerNorm((3, 4), eps=1e-3)
    torch_ln.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer(x), torch_ln(x))


@pytest.mark.parametrize("axis,shape", [(-1, (2, 3, 4)), ([1, 2], (2, 3, 4)), (1, (2, 3, 4))])
def test_layer_norm_gradcheck(axis, shape):
    layer = layers.LayerNormalization(axis=axis, dtype="float64",
                                      gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert torch.autograd.gradcheck(lambda inp, *_: layer(inp), (x, layer.weight, layer.bias))


GN_CASES = [
    ({"groups": 2}, (2, 3, 4)),
    ({"groups": 1}, (2, 5, 6)),
    ({"groups": -1}, (2, 3, 3, 4)),
    ({"groups": 3, "axis": 1}, (2, 6, 2, 2)),
    ({"groups": 2, "axis": -2}, (2, 4, 3)),
    ({"groups": 4}, (3, 8)),
    ({"groups": 2, "center": False, "scale": False}, (2, 3, 4)),
    ({"groups": 2, "epsilon": 1e-5}, (2, 2, 2, 2, 4)),
]


@pytest.mark.parametrize("kwargs,shape", GN_CASES, ids=[f"{k}-{s}" for k, s in GN_CASES])
def test_group_norm_parity(kwargs, shape):
    init = {"gamma_initializer": "random_normal", "beta_initializer": "random_normal"}
    check_layer("GroupNormalization", {**init, **kwargs}, shape, rtol=1e-4, atol=1e-5)


def test_group_norm_state_dict_loads_into_torch_groupnorm():
    layer = layers.GroupNormalization(groups=2, gamma_initializer="random_normal")
    x = torch.randn(2, 3, 3, 4)
    layer(x)
    torch_gn = nn.GroupNorm(2, 4, eps=1e-3)
    torch_gn.load_state_dict(layer.state_dict())
    torch.testing.assert_close(layer(x), torch_gn(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


def test_group_norm_gradcheck():
    layer = layers.GroupNormalization(groups=2, dtype="float64", gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    layer(x)
    assert torch.autograd.gradcheck(lambda inp, *_: layer(inp), (x, layer.weight, layer.bias))


@pytest.mark.parametrize("kwargs,shape", [({}, (3, 4)), ({"axis": [1, 2]}, (2, 3, 4)),
                                          ({"axis": 1}, (2, 3, 4))])
def test_unit_norm_parity(kwargs, shape):
    check_layer("UnitNormalization", kwargs, shape)


def test_unit_norm_keeps_zero_vectors_at_zero():
    out = layers.UnitNormalization()(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.0], [0.6, 0.8]]))


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: layers.BatchNormalization(axis=3), (2, 3, 4)),
        (lambda: layers.BatchNormalization(axis=-4), (2, 3, 4)),
        (lambda: layers.LayerNormalization(axis=[1, 5]), (2, 3, 4)),
        (lambda: layers.GroupNormalization(groups=1, axis=3), (2, 3, 4)),
        (lambda: layers.UnitNormalization(axis=-3), (2, 3)),
    ],
)
def test_invalid_axis_is_a_value_error_naming_layer_argument_value(make, shape):
    layer = make()
    with pytest.raises(ValueError, match=rf'`axis` of layer "{layer.name}".*axis='):
        layer(torch.zeros(shape))
    with pytest.raises(ValueError, match="axis"):
        make()(keraslike.Input(batch_shape=(None,) + shape[1:]))


def test_group_norm_groups_errors():
    with pytest.raises(ValueError, match=r'`groups` of layer "group_normalization.*groups=3'):
        layers.GroupNormalization(groups=3)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"cannot be more than.*groups=8"):
        layers.GroupNormalization(groups=8)(torch.zeros(2, 4))
    for bad in (0, -2, 2.0, "2"):
        with pytest.raises(ValueError, match=rf"`groups`.*groups={bad}"):
            layers.GroupNormalization(groups=bad)


def test_other_argument_errors():
    with pytest.raises(ValueError, match="momentum"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="renorm_clipping"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"bad": 1})
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="x")
    with pytest.raises(ValueError, match="defined size"):
        layers.BatchNormalization()(keraslike.Input(batch_shape=(None, None)))
