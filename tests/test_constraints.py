"""Constraints: projections against Keras 3 (Keras layout), configs, (de)serialization, lookups."""

import math

import numpy as np
import pytest
import torch

from keraslike import constraints
from keraslike.backend.serialization import register_keras_serializable


@pytest.fixture(scope="module")
def keras_oracle():
    """Keras 3 (the oracle), imported once; these tests need no `clear_session` between them."""
    return pytest.importorskip("keras")


CASES = [
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}),
    ("MaxNorm", {"max_value": 1.0, "axis": [0, 1, 2]}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5, "axis": 1}),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.5, "axis": [0, 1, 2]}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": -1}),
    ("UnitNorm", {"axis": [0, 1, 2]}),
    ("NonNeg", {}),
]
IDS = [f"{n}-{k}" for n, k in CASES]


def _w(kwargs, dtype=torch.float32):
    axis = kwargs.get("axis", 0)
    shape = (3, 3, 4, 5) if isinstance(axis, list) else (6, 7)  # conv kernel / dense kernel
    g = torch.Generator().manual_seed(2)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * 2).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_projection_equals_keras(keras_oracle, name, kwargs, dtype):
    w = _w(kwargs, dtype)
    got = getattr(constraints, name)(**kwargs)(w)
    expected = keras_oracle.ops.convert_to_numpy(getattr(keras_oracle.constraints, name)(**kwargs)(w))
    assert got.shape == w.shape and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_no_host_sync(name, kwargs):
    """Meta tensors have no data: a host sync inside the projection would fail."""
    w = _w(kwargs).to("meta")
    assert getattr(constraints, name)(**kwargs)(w).device.type == "meta"


def test_norms_are_bounded():
    w = _w({}) * 10
    norms = torch.linalg.vector_norm(constraints.MaxNorm(2.0)(w), dim=0)
    assert (norms <= 2.0 + 1e-5).all()
    norms = torch.linalg.vector_norm(constraints.UnitNorm()(w), dim=0)
    torch.testing.assert_close(norms, torch.ones_like(norms))
    norms = torch.linalg.vector_norm(constraints.MinMaxNorm(3.0, 4.0)(w * 0.01), dim=0)
    assert ((norms >= 3.0 - 1e-5) & (norms <= 4.0 + 1e-5)).all()
    assert (constraints.NonNeg()(w) >= 0).all()


@pytest.mark.parametrize("size", [3, 4, 5, 6])
def test_radial_constraint(size):
    w = torch.randn(size, size, 2, 3)
    out = constraints.RadialConstraint()(w)
    assert out.shape == w.shape
    for i in range(2):
        for j in range(3):
            k = out[:, :, i, j]
            assert torch.equal(k, k.T) and torch.equal(k, k.flip(0)) and torch.equal(k, k.flip(1))
            # tf.keras's test: one value per ring.
            assert len(set(k.flatten().tolist())) == math.ceil(size / 2)
            assert set(k.flatten().tolist()) <= set(w[:, :, i, j].diagonal().tolist())
    with pytest.raises(ValueError, match="rank 4"):
        constraints.RadialConstraint()(torch.ones(3, 3))


def test_radial_constraint_rings_follow_tf_keras():
    w = torch.arange(25.0).reshape(5, 5, 1, 1)  # diagonal values 0, 6, 12, 18, 24
    k = constraints.RadialConstraint()(w)[:, :, 0, 0]
    assert k[2, 2] == 6.0 and k[1, 1] == 12.0 and k[0, 0] == 18.0


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_config_and_serialize_equal_keras(keras_oracle, name, kwargs):
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras_oracle.constraints, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    serialized = constraints.serialize(ours)
    assert serialized == keras_oracle.constraints.serialize(theirs)
    for form in (serialized, keras_oracle.constraints.serialize(theirs)):
        back = constraints.deserialize(form)
        assert type(back) is type(ours) and back.get_config() == ours.get_config()
    assert constraints.get(serialized).get_config() == ours.get_config()


def test_radial_constraint_serializes():
    serialized = constraints.serialize(constraints.RadialConstraint())
    assert serialized == {
        "module": "keras.constraints",
        "class_name": "RadialConstraint",
        "config": {},
        "registered_name": None,
    }
    assert isinstance(constraints.get(serialized), constraints.RadialConstraint)


@pytest.mark.parametrize(
    "identifier", ["max_norm", "MaxNorm", "min_max_norm", "MinMaxNorm", "non_neg", "NonNeg", "unit_norm", "UnitNorm"]
)
def test_string_identifiers_equal_keras(keras_oracle, identifier):
    ours = constraints.get(identifier)
    theirs = keras_oracle.constraints.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == theirs.get_config()


def test_get_identifier_kinds():
    assert constraints.get(None) is None
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)
    instance = constraints.MaxNorm(3)
    assert constraints.get(instance) is instance

    def fn(w):
        return w.clamp(-1, 1)

    assert constraints.get(fn) is fn
    assert constraints.max_norm is constraints.MaxNorm


def test_unknown_identifier_error_equals_keras(keras_oracle):
    with pytest.raises(ValueError) as theirs:
        keras_oracle.constraints.get("no_such_constraint")
    with pytest.raises(ValueError) as ours:
        constraints.get("no_such_constraint")
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.deserialize({"class_name": "NoSuch", "config": {}})


def test_custom_constraint_serializes_like_keras(keras_oracle):
    def make(base, register):
        @register(package="test_constraints")
        class Clip(base):
            def __init__(self, limit=1.0):
                self.limit = limit

            def __call__(self, w):
                return w

            def get_config(self):
                return {"limit": self.limit}

        return Clip

    ours_cls = make(constraints.Constraint, register_keras_serializable)
    theirs_cls = make(keras_oracle.constraints.Constraint, keras_oracle.saving.register_keras_serializable)
    assert constraints.serialize(ours_cls(2.0)) == keras_oracle.constraints.serialize(theirs_cls(2.0))
    back = constraints.get(constraints.serialize(ours_cls(2.0)))
    assert isinstance(back, ours_cls) and back.limit == 2.0
