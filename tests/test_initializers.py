"""Initializers: statistics, exact parity with Keras 3 for seeded draws, configs and lookups."""

import math
import random

import numpy as np
import pytest
import torch

from keraslike import initializers
from keraslike.backend import config as backend_config
from keraslike.backend.serialization import register_keras_serializable

RANDOM_CLASSES = [
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
]
ALL_CLASSES = ["Zeros", "Ones", "Constant", "Identity"] + RANDOM_CLASSES

# Constructor arguments beyond the defaults, to check that configs carry them.
CUSTOM_ARGS = {
    "Constant": {"value": 2.5},
    "Identity": {"gain": 2.0},
    "RandomNormal": {"mean": 1.0, "stddev": 0.5, "seed": 3},
    "RandomUniform": {"minval": -1.0, "maxval": 2.0, "seed": 3},
    "TruncatedNormal": {"mean": 0.5, "stddev": 2.0, "seed": 3},
    "VarianceScaling": {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform", "seed": 3},
    "GlorotUniform": {"seed": 3},
    "GlorotNormal": {"seed": 7, "input_axes": [0], "output_axes": [1]},
    "HeUniform": {"seed": 3},
    "HeNormal": {"seed": 3},
    "LecunUniform": {"seed": 3},
    "LecunNormal": {"seed": 3},
    "Orthogonal": {"gain": 2.0, "seed": 3},
}


@pytest.fixture(scope="module")
def keras_oracle():
    """Keras 3 (the oracle), imported once; these tests need no `clear_session` between them."""
    return pytest.importorskip("keras")


def _np(x):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


# --- statistics ------------------------------------------------------------------------------

BIG = (400, 500)  # fan_in 400, fan_out 500
CONV = (3, 3, 48, 64)  # receptive field 9: fan_in 432, fan_out 576


def _expected_std(name, shape):
    fan_in, fan_out = initializers.compute_fans(shape)
    fan_avg = (fan_in + fan_out) / 2
    return {
        "RandomNormal": 0.05,
        "RandomUniform": 0.05 / math.sqrt(3),
        "TruncatedNormal": 0.05 * 0.8796256610342398,
        "VarianceScaling": math.sqrt(1 / fan_in),
        "GlorotUniform": math.sqrt(1 / fan_avg),
        "GlorotNormal": math.sqrt(1 / fan_avg),
        "HeUniform": math.sqrt(2 / fan_in),
        "HeNormal": math.sqrt(2 / fan_in),
        "LecunUniform": math.sqrt(1 / fan_in),
        "LecunNormal": math.sqrt(1 / fan_in),
    }[name]


@pytest.mark.parametrize("shape", [BIG, CONV], ids=["dense", "conv"])
@pytest.mark.parametrize("name", [n for n in RANDOM_CLASSES if n != "Orthogonal"])
def test_random_statistics(name, shape):
    values = getattr(initializers, name)()(shape)
    assert values.shape == shape and values.dtype == torch.float32
    std = _expected_std(name, shape)
    assert abs(values.mean().item()) < 0.02 * std
    assert values.std().item() == pytest.approx(std, rel=0.02)
    if "Uniform" in name:
        limit = std * math.sqrt(3)
        assert values.abs().max().item() <= limit
        assert values.abs().max().item() > 0.99 * limit
    if name in ("TruncatedNormal", "GlorotNormal", "HeNormal", "LecunNormal", "VarianceScaling"):
        # Keras's draw (first of 4 normals inside 2 stddev) leaves ~4e-6 of values outside.
        bound = 2 * std / 0.8796256610342398
        assert (values.abs() > bound).float().mean().item() < 1e-4


@pytest.mark.parametrize("shape", [(7, 7), (20, 5), (5, 20), (3, 3, 4, 8)])
def test_orthogonal(shape):
    q = initializers.Orthogonal(gain=1.0)(shape)
    assert q.shape == shape
    m = q.reshape(-1, shape[-1]).double()  # (rows, cols)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    torch.testing.assert_close(gram, torch.eye(gram.shape[0], dtype=torch.float64), atol=1e-5, rtol=0)
    q2 = initializers.Orthogonal(gain=3.0, seed=1)(shape)
    m2 = q2.reshape(-1, shape[-1]).double() / 3.0
    gram2 = m2.T @ m2 if m2.shape[0] >= m2.shape[1] else m2 @ m2.T
    torch.testing.assert_close(gram2, torch.eye(gram2.shape[0], dtype=torch.float64), atol=1e-5, rtol=0)


def test_orthogonal_needs_rank_2():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((5,))


def test_identity_and_constants():
    assert torch.equal(initializers.Identity()((3, 3)), torch.eye(3))
    assert torch.equal(initializers.Identity(gain=2.0)((2, 4)), 2.0 * torch.eye(2, 4))
    with pytest.raises(ValueError, match="2D matrices"):
        initializers.Identity()((2, 2, 2))
    assert torch.equal(initializers.Zeros()((2, 3)), torch.zeros(2, 3))
    assert torch.equal(initializers.Ones()((2, 3)), torch.ones(2, 3))
    assert torch.equal(initializers.Constant(1.5)((4,)), torch.full((4,), 1.5))
    assert initializers.Zeros()((2,), dtype="int32").dtype == torch.int32
    assert initializers.Ones()((2,), dtype=torch.float64).dtype == torch.float64
    assert initializers.Constant(2)((2,), dtype="bfloat16").dtype == torch.bfloat16
    assert initializers.Zeros()(()).shape == ()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", torch.float64])
@pytest.mark.parametrize("name", RANDOM_CLASSES)
def test_random_dtypes(name, dtype):
    values = getattr(initializers, name)()((6, 4), dtype=dtype)
    expected = dtype if isinstance(dtype, torch.dtype) else getattr(torch, dtype)
    assert values.dtype == expected and values.device.type == "cpu"
    assert torch.isfinite(values).all()


def test_default_dtype_follows_floatx():
    backend_config.set_floatx("float64")
    try:
        assert initializers.GlorotUniform()((3, 3)).dtype == torch.float64
        assert initializers.Zeros()((3,)).dtype == torch.float64
    finally:
        backend_config.set_floatx("float32")


def test_scalar_and_vector_shapes():
    assert initializers.RandomUniform()(()).shape == ()
    assert initializers.GlorotUniform()((5,)).shape == (5,)  # fan_in = fan_out = 5
    assert initializers.HeNormal()(torch.Size([3, 2])).shape == (3, 2)


# --- randomness ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RANDOM_CLASSES)
def test_unseeded_initializers_take_keras_seed_from_python_random(keras_oracle, name):
    cls = getattr(initializers, name)
    seeded = cls(seed=5)
    assert torch.equal(seeded((8, 6)), seeded((8, 6)))
    kwargs = {k: v for k, v in CUSTOM_ARGS[name].items() if k != "seed"}
    keras_oracle.utils.set_random_seed(11)
    expected = _np(getattr(keras_oracle.initializers, name)(**kwargs)((8, 6)))
    random.seed(11)  # what set_random_seed seeds for initializers: Python's `random`
    unseeded = cls(**kwargs)
    first = unseeded((8, 6)).numpy()
    np.testing.assert_allclose(first, expected, rtol=1e-6, atol=1e-7)
    assert np.array_equal(unseeded((8, 6)).numpy(), first)  # Keras's rule: an instance repeats
    assert not np.array_equal(cls(**kwargs)((8, 6)).numpy(), first)  # a new one draws anew
    assert unseeded.get_config()["seed"] is None
    assert cls.from_config(unseeded.get_config()).get_config() == unseeded.get_config()


@pytest.mark.parametrize("shape", [(5, 7), (7, 5), (3, 3, 4, 6), (10,)], ids=str)
@pytest.mark.parametrize("name", RANDOM_CLASSES)
def test_seeded_values_equal_keras(keras_oracle, name, shape):
    if len(shape) < 2 and name in ("Orthogonal", "GlorotNormal"):
        pytest.skip("needs rank >= 2 (Orthogonal; GlorotNormal's custom axes)")
    kwargs = dict(CUSTOM_ARGS[name], seed=1337)
    expected = _np(getattr(keras_oracle.initializers, name)(**kwargs)(shape))
    got = getattr(initializers, name)(**kwargs)(shape).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "shape",
    [(), (5,), (3, 4), (3, 3, 4, 8), (2, 3, 5, 4, 6)],
    ids=str,
)
def test_compute_fans_equals_keras(shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert initializers.compute_fans(shape) == compute_fans(shape)
    if len(shape) >= 2:
        axes = dict(input_axes=[0], output_axes=[-1])
        assert initializers.compute_fans(shape, **axes) == compute_fans(shape, **axes)


# --- configs and lookups ---------------------------------------------------------------------


@pytest.mark.parametrize("custom", [False, True], ids=["defaults", "custom"])
@pytest.mark.parametrize("name", ALL_CLASSES)
def test_config_and_serialize_equal_keras(keras_oracle, name, custom):
    kwargs = CUSTOM_ARGS.get(name, {}) if custom else {}
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras_oracle.initializers, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == keras_oracle.initializers.serialize(theirs)
    # Round trips: ours -> ours, and Keras's serialized form -> ours.
    back = initializers.deserialize(initializers.serialize(ours))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    from_keras = initializers.deserialize(keras_oracle.initializers.serialize(theirs))
    assert type(from_keras) is type(ours) and from_keras.get_config() == ours.get_config()
    assert initializers.get(initializers.serialize(ours)).get_config() == ours.get_config()
    assert type(ours.clone()) is type(ours) and ours.clone().get_config() == ours.get_config()


def test_keras2_style_config():
    init = initializers.deserialize({"class_name": "VarianceScaling", "config": {"scale": 2.0}})
    assert isinstance(init, initializers.VarianceScaling) and init.scale == 2.0


def _keras_string_ids(keras):
    from keras.src.initializers import ALL_OBJECTS_DICT

    # Keras's own `get("constant")` fails (Constant.from_config needs a value); we give Constant(0.0).
    return sorted(k for k in ALL_OBJECTS_DICT if k.lower() not in ("stft", "stftinitializer", "constant"))


def test_string_identifiers_equal_keras(keras_oracle):
    for identifier in _keras_string_ids(keras_oracle):
        theirs = keras_oracle.initializers.get(identifier)
        ours = initializers.get(identifier)
        assert type(ours).__name__ == type(theirs).__name__, identifier
        assert ours.get_config() == theirs.get_config(), identifier


def test_get_accepts_every_identifier_kind():
    assert initializers.get(None) is None
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    instance = initializers.Orthogonal(gain=2.0)
    assert initializers.get(instance) is instance

    def fn(shape, dtype=None):
        return torch.ones(shape)

    assert initializers.get(fn) is fn
    assert isinstance(initializers.get({"class_name": "Ones", "config": {}}), initializers.Ones)
    values = np.arange(6, dtype="float64").reshape(2, 3)
    from_array = initializers.get(values)
    assert torch.equal(from_array((2, 3)), torch.arange(6.0).reshape(2, 3))
    assert from_array((2, 3), dtype="float64").dtype == torch.float64
    with pytest.raises(ValueError, match="Expected `shape`"):
        from_array((3, 2))
    assert torch.equal(initializers.get(torch.ones(2))((2,)), torch.ones(2))


def test_unknown_identifier_error_equals_keras(keras_oracle):
    with pytest.raises(ValueError) as theirs:
        keras_oracle.initializers.get("no_such_initializer")
    with pytest.raises(ValueError) as ours:
        initializers.get("no_such_initializer")
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get(42)
    with pytest.raises(ValueError, match="Unknown initializer"):
        initializers.deserialize({"class_name": "NoSuch", "config": {}})


def test_invalid_arguments():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="abc")
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_custom_initializer_serializes_like_keras(keras_oracle):
    def make(base, register):
        @register(package="test_initializers")
        class MyInit(base):
            def __init__(self, a=1):
                self.a = a

            def __call__(self, shape, dtype=None):
                return torch.full(shape, float(self.a))

            def get_config(self):
                return {"a": self.a}

        return MyInit

    ours_cls = make(initializers.Initializer, register_keras_serializable)
    theirs_cls = make(keras_oracle.initializers.Initializer, keras_oracle.saving.register_keras_serializable)
    serialized = initializers.serialize(ours_cls(a=3))
    assert serialized == keras_oracle.initializers.serialize(theirs_cls(a=3))
    back = initializers.get(serialized)
    assert isinstance(back, ours_cls) and back.a == 3


def test_constant_fills_with_an_array_like_keras():
    """`Constant(array)` fills (broadcasting) and round-trips its config in Keras's format."""
    keras = pytest.importorskip("keras")
    value = np.arange(6.0).reshape(2, 3)
    ours = initializers.Constant(value)
    theirs = keras.initializers.Constant(value)
    np.testing.assert_array_equal(ours((2, 3)).numpy(), np.asarray(theirs((2, 3))))
    np.testing.assert_array_equal(
        initializers.Constant(np.arange(3.0))((2, 3)).numpy(),
        np.asarray(keras.initializers.Constant(np.arange(3.0))((2, 3))),
    )
    assert ours.get_config() == theirs.get_config()
    restored = initializers.deserialize(keras.initializers.serialize(theirs))
    np.testing.assert_array_equal(restored((2, 3)).numpy(), value.astype("float32"))
    assert torch.equal(
        initializers.Constant(torch.ones(3))((2, 3), dtype="float64"),
        torch.ones(2, 3, dtype=torch.float64),
    )
    with pytest.raises(ValueError, match=r"shape \(4,\) cannot fill a weight of shape \(2, 3\)"):
        initializers.Constant(np.arange(4.0))((2, 3))
    # In a layer: the kernel is the array (Keras layout), whatever the torch storage layout.
    from keraslike import layers

    dense = layers.Dense(3, kernel_initializer=initializers.Constant(value))
    dense.build((None, 2))
    np.testing.assert_array_equal(dense.get_weights()[0], value.astype("float32"))


@pytest.mark.parametrize("name", ["random_normal", "truncated_normal", "he_normal", "glorot_uniform"])
def test_unseeded_draws_follow_the_default_device(name):
    """Under `with torch.device("meta")` nothing is drawn on the CPU: the result is a meta tensor
    (torch.normal ignores the device context unless told), and on the CPU the values are those
    of the seed the initializer took from Python's `random`; torch's global generator is not
    used (as in Keras)."""
    with torch.device("meta"):
        assert initializers.get(name)((64, 32)).device.type == "meta"
    random.seed(5)
    state = torch.get_rng_state()
    first = initializers.get(name)((4, 3))
    assert torch.equal(torch.get_rng_state(), state)
    random.seed(5)
    assert first.device.type == "cpu" and torch.equal(initializers.get(name)((4, 3)), first)
