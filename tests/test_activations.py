"""Activations: every function against Keras 3 on random data, names, (de)serialization, lookups."""

import numpy as np
import pytest
import torch

from keraslike import activations
from keraslike.backend.serialization import register_keras_serializable


@pytest.fixture(scope="module")
def keras_oracle():
    """Keras 3 (the oracle), imported once; these tests need no `clear_session` between them."""
    return pytest.importorskip("keras")


def _keras_names():
    from keras.src.activations import ALL_OBJECTS_DICT

    return sorted(ALL_OBJECTS_DICT)


def _x(shape=(4, 5, 6), scale=4.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def _compare(keras, name, x, *args, **kwargs):
    expected = keras.ops.convert_to_numpy(getattr(keras.activations, name)(x, *args, **kwargs))
    got = getattr(activations, name)(x, *args, **kwargs)
    assert got.shape == x.shape or name == "glu"
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-6)


POSITIONAL = {"threshold": (0.3, -1.5)}


def test_same_names_as_keras(keras_oracle):
    assert sorted(activations.ALL_OBJECTS_DICT) == _keras_names()


@pytest.mark.parametrize("name", sorted(activations.ALL_OBJECTS_DICT))
def test_values_equal_keras(keras_oracle, name):
    x = _x()
    x[0, 0, :3] = torch.tensor([-3.0, 3.0, 0.0])  # breakpoints of the piecewise functions
    _compare(keras_oracle, name, x, *POSITIONAL.get(name, ()))


VARIANTS = [
    ("relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 6.0}),
    ("relu", {"max_value": 2.5}),
    ("relu", {"threshold": 0.5}),
    ("relu", {"threshold": -0.5, "negative_slope": 0.1}),
    ("relu", {"negative_slope": 0.2, "max_value": 3.0, "threshold": 1.0}),
    ("relu", {"negative_slope": 0.1, "max_value": 6.0}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("elu", {"alpha": 0.5}),
    ("celu", {"alpha": 2.0}),
    ("gelu", {"approximate": True}),
    ("gelu", {"approximate": False}),
    ("softmax", {"axis": 0}),
    ("softmax", {"axis": 1}),
    ("softmax", {"axis": None}),
    ("softmax", {"axis": (0, 2)}),
    ("log_softmax", {"axis": 1}),
    ("log_softmax", {"axis": None}),
    ("glu", {"axis": 0}),
    ("squareplus", {"b": 1}),
    ("soft_shrink", {"threshold": 1.0}),
    ("hard_shrink", {"threshold": 1.0}),
    ("sparsemax", {"axis": 1}),
    ("sparsemax", {"axis": 0}),
]


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[f"{n}-{k}" for n, k in VARIANTS])
def test_argument_variants_equal_keras(keras_oracle, name, kwargs):
    _compare(keras_oracle, name, _x(), **kwargs)


@pytest.mark.parametrize("name", ["relu", "gelu", "softmax", "silu", "sigmoid", "mish", "selu", "sparsemax"])
def test_float64_equal_keras(keras_oracle, name):
    _compare(keras_oracle, name, _x(dtype=torch.float64))


@pytest.mark.parametrize("name", sorted(activations.ALL_OBJECTS_DICT))
def test_runs_on_meta_tensors(name):
    """Meta tensors have no data: any host sync (`.item()`, data-dependent Python) would fail."""
    x = torch.empty(4, 5, 6, device="meta")
    out = activations.get(name)(x, *POSITIONAL.get(name, ()))
    assert out.device.type == "meta"


@pytest.mark.parametrize("name", sorted(activations.ALL_OBJECTS_DICT))
def test_serialize_equals_keras(keras_oracle, name):
    serialized = activations.serialize(activations.get(name))
    assert serialized == keras_oracle.activations.serialize(keras_oracle.activations.get(name))
    assert activations.deserialize(serialized).__name__ == serialized
    assert activations.get(serialized) is activations.deserialize(serialized)


def test_aliases():
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu
    assert activations.serialize(activations.swish) == "silu"
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu


def test_get_identifier_kinds(keras_oracle):
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    custom = torch.nn.ReLU()
    assert activations.get(custom) is custom
    assert activations.get(torch.tanh) is torch.tanh
    dict_form = keras_oracle.saving.serialize_keras_object(keras_oracle.activations.relu)
    assert activations.get(dict_form) is activations.relu
    assert activations.deserialize(dict_form) is activations.relu


def test_unknown_identifier_error_equals_keras(keras_oracle):
    with pytest.raises(ValueError) as theirs:
        keras_oracle.activations.get("no_such_activation")
    with pytest.raises(ValueError) as ours:
        activations.get("no_such_activation")
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        activations.get(3)
    with pytest.raises(ValueError, match="no_such_activation"):
        activations.deserialize("no_such_activation")


def test_custom_functions_serialize_like_keras(keras_oracle):
    @register_keras_serializable(package="test_activations")
    def scaled_tanh(x):
        return 2 * torch.tanh(x)

    @keras_oracle.saving.register_keras_serializable(package="test_activations")
    def scaled_tanh_keras(x):
        return 2 * keras_oracle.ops.tanh(x)

    serialized = activations.serialize(scaled_tanh)
    assert serialized == {
        "module": "builtins",
        "class_name": "function",
        "config": "test_activations>scaled_tanh",
        "registered_name": "function",
    }
    theirs = keras_oracle.activations.serialize(scaled_tanh_keras)
    assert serialized == dict(theirs, config="test_activations>scaled_tanh")
    assert activations.get(serialized) is scaled_tanh
    assert activations.get("test_activations>scaled_tanh") is scaled_tanh

    def plain(x):
        return x

    assert activations.serialize(plain)["config"] == "plain"
    assert activations.deserialize(activations.serialize(plain), custom_objects={"plain": plain}) is plain
    with pytest.raises(ValueError, match="lambda"):
        activations.serialize(lambda x: x)


def test_callable_object_serializes_with_its_class():
    @register_keras_serializable(package="test_activations")
    class Scaled:
        def __init__(self, factor=2.0):
            self.factor = factor

        def __call__(self, x):
            return self.factor * x

        def get_config(self):
            return {"factor": self.factor}

    serialized = activations.serialize(Scaled(3.0))
    assert serialized == {
        "module": __name__,
        "class_name": "Scaled",
        "config": {"factor": 3.0},
        "registered_name": "test_activations>Scaled",
    }
    back = activations.get(serialized)
    assert isinstance(back, Scaled) and back.factor == 3.0


def test_gradients_flow():
    x = _x(shape=(3, 4)).requires_grad_()
    for name in activations.ALL_OBJECTS_DICT:
        if name in ("threshold",):
            continue
        activations.get(name)(x).sum().backward()
    assert torch.isfinite(x.grad).all()
