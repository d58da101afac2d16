"""Regularizers: penalties against Keras 3, configs, (de)serialization and lookups."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import regularizers
from keraslike.backend.serialization import register_keras_serializable


@pytest.fixture(scope="module")
def keras_oracle():
    """Keras 3 (the oracle), imported once; these tests need no `clear_session` between them."""
    return pytest.importorskip("keras")


CASES = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 0.25}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.1}),
    ("L1L2", {"l1": 0.01, "l2": 0.02}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
]
IDS = [f"{n}-{k}" for n, k in CASES]


def _w(shape=(6, 9), dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_penalty_equals_keras(keras_oracle, name, kwargs, dtype):
    w = _w(dtype=dtype)
    got = getattr(regularizers, name)(**kwargs)(w)
    expected = keras_oracle.ops.convert_to_numpy(getattr(keras_oracle.regularizers, name)(**kwargs)(w))
    assert got.ndim == 0 and got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_no_host_sync(name, kwargs):
    """Meta tensors have no data: a host sync inside the penalty would fail."""
    out = getattr(regularizers, name)(**kwargs)(torch.empty(6, 9, device="meta"))
    assert out.device.type == "meta" and out.ndim == 0


def test_orthogonal_regularizer_values(keras_oracle):
    assert regularizers.OrthogonalRegularizer()(torch.eye(4)).item() == 0.0
    w = torch.zeros(3, 4)
    w[0, 0] = 1.0  # zero rows exercise the epsilon cap of the normalization
    expected = keras_oracle.ops.convert_to_numpy(keras_oracle.regularizers.OrthogonalRegularizer()(w))
    np.testing.assert_allclose(regularizers.OrthogonalRegularizer()(w).numpy(), expected, atol=1e-8)
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(torch.ones(2, 2, 2))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_gradients_flow():
    w = _w().requires_grad_()
    for name, kwargs in CASES:
        penalty = getattr(regularizers, name)(**kwargs)(w)
        if penalty.requires_grad:  # L1L2() with both factors 0 is a constant, as in Keras
            penalty.backward()
    assert torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_config_and_serialize_equal_keras(keras_oracle, name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras_oracle.regularizers, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    serialized = regularizers.serialize(ours)
    assert serialized == keras_oracle.regularizers.serialize(theirs)
    for form in (serialized, keras_oracle.regularizers.serialize(theirs)):
        back = regularizers.deserialize(form)
        assert type(back) is type(ours) and back.get_config() == ours.get_config()
    assert regularizers.get(serialized).get_config() == ours.get_config()


@pytest.mark.parametrize(
    "identifier", ["l1", "l2", "L1", "L2", "L1L2", "l1l2", "orthogonal_regularizer", "OrthogonalRegularizer"]
)
def test_string_identifiers_equal_keras(keras_oracle, identifier):
    ours = regularizers.get(identifier)
    theirs = keras_oracle.regularizers.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == theirs.get_config()


def test_get_identifier_kinds():
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)  # extra convenience alias
    assert isinstance(regularizers.get(regularizers.L2), regularizers.L2)
    instance = regularizers.L1(0.5)
    assert regularizers.get(instance) is instance

    def fn(w):
        return w.abs().sum()

    assert regularizers.get(fn) is fn
    assert regularizers.l1 is regularizers.L1 and regularizers.l1_l2 is regularizers.L1L2


def test_unknown_identifier_error_equals_keras(keras_oracle):
    with pytest.raises(ValueError) as theirs:
        keras_oracle.regularizers.get("no_such_regularizer")
    with pytest.raises(ValueError) as ours:
        regularizers.get("no_such_regularizer")
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.deserialize({"class_name": "NoSuch", "config": {}})


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1"])
def test_invalid_factors(bad):
    for make in (regularizers.L1, regularizers.L2, lambda v: regularizers.L1L2(l1=v)):
        with pytest.raises(ValueError, match="non-negative"):
            make(bad)
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.OrthogonalRegularizer(factor=bad)


def test_none_factors_use_defaults():
    assert regularizers.L1(None).get_config() == regularizers.L1().get_config()
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}


def test_custom_regularizer_serializes_like_keras(keras_oracle):
    def make(base, register):
        @register(package="test_regularizers")
        class Scaled(base):
            def __init__(self, k=1.0):
                self.k = k

            def __call__(self, x):
                return self.k * (x * x).sum()

            def get_config(self):
                return {"k": self.k}

        return Scaled

    ours_cls = make(regularizers.Regularizer, register_keras_serializable)
    theirs_cls = make(keras_oracle.regularizers.Regularizer, keras_oracle.saving.register_keras_serializable)
    assert regularizers.serialize(ours_cls(2.0)) == keras_oracle.regularizers.serialize(theirs_cls(2.0))
    back = regularizers.get(regularizers.serialize(ours_cls(2.0)))
    assert isinstance(back, ours_cls) and back.k == 2.0


def test_subclass_get_config_calling_base_raises_like_keras(keras_oracle):
    # keras-io's PointNet: `get_config` starts with `super().get_config()`, which Keras 3's base
    # class does not implement. The error must be Keras's, not a RecursionError through `repr`.
    def subclass(lib):
        class Reg(lib.regularizers.Regularizer):
            def __call__(self, x):
                return 0.0

            def get_config(self):
                config = super().get_config()
                config.update({"k": 3})
                return config

        return Reg()

    for reg in (subclass(keras_oracle), subclass(keraslike)):
        with pytest.raises(NotImplementedError, match=r"^<.*Reg object at 0x[0-9a-f]+> does not implement get_config\(\)$"):
            reg.get_config()
