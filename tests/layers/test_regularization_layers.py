"""Noise and regularization layers: identity at inference, training statistics, configs, errors."""

import math

import numpy as np
import pytest
import torch

import keraslike
from keraslike import layers
from tests.layer_harness import check_layer

PARITY_CASES = [
    ("SpatialDropout1D", {"rate": 0.3}, (2, 4, 5)),
    ("SpatialDropout2D", {"rate": 0.3}, (2, 4, 5, 3)),
    ("SpatialDropout2D", {"rate": 0.5, "data_format": "channels_first"}, (2, 3, 4, 5)),
    ("SpatialDropout3D", {"rate": 0.2, "seed": 3}, (2, 3, 2, 2, 4)),
    ("SpatialDropout3D", {"rate": 0.2, "data_format": "channels_first"}, (2, 3, 2, 2, 4)),
    ("GaussianNoise", {"stddev": 0.3}, (2, 4)),
    ("GaussianNoise", {"stddev": 1.0, "seed": 1}, (2, 3, 4)),
    ("GaussianDropout", {"rate": 0.3}, (2, 4)),
    ("AlphaDropout", {"rate": 0.3}, (2, 4)),
    ("AlphaDropout", {"rate": 0.1, "noise_shape": (None, 1, 4)}, (2, 3, 4)),
    ("ActivityRegularization", {"l1": 0.1}, (2, 4)),
    ("ActivityRegularization", {"l1": 0.01, "l2": 0.2}, (2, 3, 4)),
]


@pytest.mark.parametrize("training", [None, False])
@pytest.mark.parametrize("name,kwargs,shape", PARITY_CASES, ids=[c[0] for c in PARITY_CASES])
def test_identity_at_inference_and_keras_config(name, kwargs, shape, training):
    call_kwargs = {} if training is None else {"training": training}
    ours, _, out, _ = check_layer(name, kwargs, shape, call_kwargs=call_kwargs)
    x = torch.randn(shape)
    assert ours(x) is x or torch.equal(ours(x), x)


def test_spatial_dropout_config_is_keras_exactly():
    import keras

    for cls in ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"):
        ours = getattr(layers, cls)(0.2, name="drop").get_config()
        assert ours == getattr(keras.layers, cls)(0.2, name="drop").get_config()
    assert isinstance(layers.SpatialDropout1D(0.1), layers.Dropout)


@pytest.mark.parametrize(
    "layer,shape,channel_axis",
    [
        (lambda: layers.SpatialDropout1D(0.4), (64, 8, 16), -1),
        (lambda: layers.SpatialDropout2D(0.4), (32, 4, 5, 16), -1),
        (lambda: layers.SpatialDropout2D(0.4, data_format="channels_first"), (32, 16, 4, 5), 1),
        (lambda: layers.SpatialDropout3D(0.4), (32, 2, 3, 2, 16), -1),
        (lambda: layers.SpatialDropout3D(0.4, data_format="channels_first"), (32, 16, 2, 3, 2), 1),
    ],
)
def test_spatial_dropout_drops_whole_channels(layer, shape, channel_axis):
    layer = layer()
    x = torch.rand(shape) + 1.0  # strictly positive, so zeros are drops
    y = layer(x, training=True)
    ratio = y / x
    kept = ratio > 0
    # each (example, channel) is all kept or all dropped across the other axes
    spatial = [d for d in range(1, len(shape)) if d != channel_axis % len(shape)]
    assert torch.equal(kept.all(dim=spatial), kept.any(dim=spatial))
    torch.testing.assert_close(ratio[kept], torch.full_like(ratio[kept], 1 / 0.6))
    drop_fraction = 1 - kept.float().mean().item()
    assert abs(drop_fraction - 0.4) < 0.08


def test_training_follows_the_module_flag():
    x = torch.ones(200, 50)
    for layer in (layers.GaussianNoise(0.5), layers.GaussianDropout(0.5), layers.AlphaDropout(0.5),
                  layers.SpatialDropout1D(0.5)):
        y = x.reshape(200, 5, 10) if isinstance(layer, layers.SpatialDropout1D) else x
        assert torch.equal(layer(y), y)  # a fresh layer is in inference mode, like Keras
        layer.train()
        assert not torch.equal(layer(y), y)
        assert torch.equal(layer(y, training=False), y)  # the explicit argument wins
        layer.eval()
        assert torch.equal(layer(y), y)


def test_gaussian_noise_statistics():
    torch.manual_seed(1)
    x = torch.full((400, 500), 3.0)
    y = layers.GaussianNoise(0.25)(x, training=True)
    noise = y - x
    assert abs(noise.mean().item()) < 0.005
    assert abs(noise.std().item() - 0.25) < 0.005


def test_gaussian_dropout_statistics():
    torch.manual_seed(2)
    rate = 0.3
    x = torch.full((400, 500), 2.0)
    factor = layers.GaussianDropout(rate)(x, training=True) / x
    assert abs(factor.mean().item() - 1.0) < 0.005
    assert abs(factor.std().item() - math.sqrt(rate / (1 - rate))) < 0.005


@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_alpha_dropout_keeps_mean_and_variance(rate):
    torch.manual_seed(3)
    x = torch.randn(400, 500)
    y = layers.AlphaDropout(rate)(x, training=True)
    assert abs(y.mean().item()) < 0.01
    assert abs(y.var().item() - 1.0) < 0.02
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    dropped = (y - (a * x + b)).abs() > 1e-5
    assert abs(dropped.float().mean().item() - rate) < 0.01
    torch.testing.assert_close(y[dropped], torch.full_like(y[dropped], a * alpha_p + b))


def test_alpha_dropout_noise_shape_broadcasts_the_mask():
    y = layers.AlphaDropout(0.5, noise_shape=(None, 1, 6))(torch.randn(8, 5, 6), training=True)
    const = y[:, :1, :]
    dropped = (y == const) & (y == y.amin(dim=(0, 1), keepdim=True))
    assert torch.equal(dropped.all(dim=1), dropped.any(dim=1))


def test_activity_regularization_loss_matches_keras():
    import keras

    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    ours = layers.ActivityRegularization(l1=0.1, l2=0.02)
    theirs = keras.layers.ActivityRegularization(l1=0.1, l2=0.02)
    assert torch.equal(ours(torch.as_tensor(x)), torch.as_tensor(x))
    theirs(keras.ops.convert_to_tensor(x))
    assert len(ours.losses) == 1
    np.testing.assert_allclose(ours.losses[0].item(), float(theirs.losses[0]), rtol=1e-6)
    expected = (0.1 * np.abs(x).sum() + 0.02 * (x**2).sum()) / 4
    np.testing.assert_allclose(ours.losses[0].item(), expected, rtol=1e-6)
    assert "activity_regularizer" not in ours.get_config()


def test_noise_layers_in_graphs_keep_shapes():
    inputs = keraslike.Input((6, 4))
    masked = layers.Masking()(inputs)
    for layer in (layers.GaussianNoise(0.1), layers.GaussianDropout(0.1), layers.AlphaDropout(0.1),
                  layers.SpatialDropout1D(0.1), layers.ActivityRegularization(l1=0.1)):
        out = layer(masked)
        assert out.shape == (None, 6, 4)
        assert layer.supports_masking


@pytest.mark.parametrize(
    "make,argument,value",
    [
        (lambda: layers.GaussianDropout(1.0), "rate", "1.0"),
        (lambda: layers.GaussianDropout(-0.1), "rate", "-0.1"),
        (lambda: layers.AlphaDropout(1.0), "rate", "1.0"),
        (lambda: layers.AlphaDropout(1.5), "rate", "1.5"),
        (lambda: layers.SpatialDropout1D(1.5), "rate", "1.5"),
        (lambda: layers.SpatialDropout2D(-0.5), "rate", "-0.5"),
        (lambda: layers.Dropout(2), "rate", "2"),
        (lambda: layers.GaussianNoise(-1), "stddev", "-1"),
        (lambda: layers.GaussianNoise(1.5), "stddev", "1.5"),
        (lambda: layers.GaussianDropout("a"), "rate", "a"),
    ],
)
def test_bad_rates_are_value_errors_naming_layer_argument_value(make, argument, value):
    with pytest.raises(ValueError, match=rf'`{argument}` of layer "\w+".*{argument}={value}'):
        make()


def test_spatial_dropout_rank_is_checked():
    with pytest.raises(ValueError, match="spatial_dropout2d"):
        layers.SpatialDropout2D(0.1)(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.1, data_format="nhwc")


# Training-dependent layers misused outside a model: each mistake raises Keras's exception type
# (the same as Keras 3 for the same call), with a message naming the culprit.
_X2 = np.ones((2, 3), "float32")
_X3 = np.ones((2, 4, 3), "float32")
MISUSES = [
    ("dropout_rate", lambda L: L.Dropout(1.5), "rate=1.5"),
    ("gaussian_dropout_rate", lambda L: L.GaussianDropout(1.5), "rate=1.5"),
    ("alpha_dropout_rate", lambda L: L.AlphaDropout(-0.5), "rate=-0.5"),
    ("gaussian_noise_stddev", lambda L: L.GaussianNoise(-1.0), "stddev=-1.0"),
    ("dropout_seed", lambda L: L.Dropout(0.5, seed="x"), "seed='x'"),
    ("gaussian_noise_seed", lambda L: L.GaussianNoise(0.1, seed=1.5), "seed=1.5"),
    ("dropout_unknown_kwarg", lambda L: L.Dropout(0.5, bogus=1), "bogus"),
    ("spatial_dropout_rank", lambda L: L.SpatialDropout2D(0.5)(_X3, training=True), "spatial_dropout2d"),
    ("batch_norm_rank_change",
     lambda L: (lambda bn: (bn(_X2, training=True), bn(_X3, training=True)))(L.BatchNormalization()),
     "expected ndim=2, found ndim=3"),
    ("batch_norm_channels_change",
     lambda L: (lambda bn: (bn(_X2, training=True), bn(np.ones((2, 5), "float32"), training=True)))(
         L.BatchNormalization()), "axis -1"),
    ("lstm_rank", lambda L: L.LSTM(3, dropout=0.5)(_X2, training=True), "expected ndim=3, found ndim=2"),
    ("mha_missing_value", lambda L: L.MultiHeadAttention(2, 2, dropout=0.5)(_X3), "value"),
]


@pytest.mark.parametrize("make,culprit", [m[1:] for m in MISUSES], ids=[m[0] for m in MISUSES])
def test_misuse_outside_a_model_raises_keras_type_naming_the_culprit(make, culprit):
    keras_oracle = pytest.importorskip("keras")
    with pytest.raises(Exception) as theirs:
        make(keras_oracle.layers)
    with pytest.raises(theirs.type) as ours:
        make(layers)
    assert culprit in str(ours.value)


def test_noise_on_integer_inputs_is_float_as_keras():
    out = layers.GaussianNoise(0.5)(torch.ones(2, 3, dtype=torch.int32), training=True)
    assert out.dtype == torch.float32 and not torch.equal(out, torch.ones(2, 3))


# ----------------------------------------------------------------------------- seeds (as Keras)

SEEDED_CASES = [
    ("Dropout", {"rate": 0.4}, (3, 5, 4)),
    ("Dropout", {"rate": 0.5, "noise_shape": (None, 1, 4)}, (3, 5, 4)),
    ("Dropout", {"rate": 1.0}, (2, 3)),
    ("SpatialDropout1D", {"rate": 0.5}, (3, 4, 6)),
    ("SpatialDropout2D", {"rate": 0.5}, (2, 3, 3, 6)),
    ("SpatialDropout2D", {"rate": 0.5, "data_format": "channels_first"}, (2, 6, 3, 3)),
    ("SpatialDropout3D", {"rate": 0.5}, (2, 2, 2, 2, 6)),
    ("GaussianNoise", {"stddev": 0.5}, (3, 5, 4)),
    ("GaussianDropout", {"rate": 0.4}, (3, 5, 4)),
    ("AlphaDropout", {"rate": 0.4}, (3, 5, 4)),
    ("AlphaDropout", {"rate": 0.4, "noise_shape": (None, 1, 4)}, (3, 5, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", SEEDED_CASES,
                         ids=[f"{c[0]}-{sorted(c[1])}" for c in SEEDED_CASES])
def test_seeded_noise_is_repeatable_and_equals_keras(keras_oracle, name, kwargs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32") + 2.0
    theirs = getattr(keras_oracle.layers, name)(seed=1234, **kwargs)
    ours = getattr(layers, name)(seed=1234, **kwargs)
    twin = getattr(layers, name)(seed=1234, **kwargs)
    draws = []
    for _ in range(2):  # the second call draws with the next seed, in both libraries
        expected = keras_oracle.ops.convert_to_numpy(theirs(x, training=True))
        got = ours(torch.as_tensor(x), training=True).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(twin(torch.as_tensor(x), training=True).numpy(), got)
        draws.append(got)
    if kwargs.get("rate", 0) < 1:
        assert not np.array_equal(draws[0], draws[1])
    other = getattr(layers, name)(seed=99, **kwargs)
    if kwargs.get("rate", 0) < 1:
        assert not np.array_equal(other(torch.as_tensor(x), training=True).numpy(), draws[0])


def test_seeded_dropout_in_fit_repeats_and_unseeded_layers_hold_no_generator():
    def train(seed, global_seed):
        keraslike.utils.set_random_seed(0)
        inputs = keraslike.Input((6,))
        x = layers.Dense(8, name="d")(inputs)
        x = layers.Dropout(0.5, seed=seed, name="drop")(x)
        model = keraslike.Model(inputs, layers.Dense(1, name="out")(x))
        model.compile("sgd", "mse")
        data = np.random.default_rng(1).standard_normal((16, 6)).astype("float32")
        torch.manual_seed(global_seed)  # torch's global generator: what unseeded dropout uses
        history = model.fit(data, data[:, :1], batch_size=4, epochs=1, verbose=0, shuffle=False)
        return history.history["loss"][0], model

    first, model = train(7, global_seed=1)
    assert train(7, global_seed=2)[0] == first  # the global generator does not reach it
    assert train(None, global_seed=1)[0] != train(None, global_seed=2)[0]
    assert "drop.seed_generator.state" in model.state_dict()
    # An unseeded layer holds a generator as Keras's does (listed in `variables`), but outside
    # the module tree: nothing of it is saved or moved.
    unseeded = layers.Dropout(0.5)
    assert [v.name for v in unseeded.variables] == ["seed_generator_state"]
    assert dict(unseeded.state_dict()) == {}
    assert "seed_generator" not in dict(layers.GaussianNoise(0.1).named_modules())


@pytest.mark.cuda
@pytest.mark.parametrize("name,kwargs,shape", SEEDED_CASES[:1] + SEEDED_CASES[7:9],
                         ids=["Dropout", "GaussianNoise", "GaussianDropout"])
def test_seeded_noise_on_cuda_repeats_and_equals_keras(name, kwargs, shape):
    x = torch.randn(shape, device="cuda") + 2.0
    first, second = (getattr(layers, name)(seed=5, **kwargs) for _ in range(2))
    got = first(x, training=True)
    assert got.device.type == "cuda"
    torch.testing.assert_close(second(x, training=True), got, rtol=0, atol=0)
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        return
    from keras.src.backend.torch.core import get_device

    if get_device() == "cuda":  # Keras draws on its default device: compare there
        theirs = getattr(keras.layers, name)(seed=5, **kwargs)
        expected = keras.ops.convert_to_numpy(theirs(x, training=True))
        np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-6, atol=1e-6)
