"""Parity checks of `keraslike.ops` against Keras 3's `keras.ops` (torch backend).

A case is an op name, its array arguments (NumPy, converted to torch tensors for both libraries),
its keyword arguments and how many leading array arguments to make symbolic in the graph check.
"""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import ops as kops

RNG = np.random.RandomState(0)


def f(*shape):
    """Standard-normal float32 data."""
    return RNG.randn(*shape).astype("float32")


def pos(*shape):
    """Positive float32 data in [0.5, 1.5)."""
    return (RNG.rand(*shape) + 0.5).astype("float32")


def unit(*shape):
    """float32 data in (-0.9, 0.9)."""
    return ((RNG.rand(*shape) - 0.5) * 1.8).astype("float32")


def ints(*shape, low=0, high=5, dtype="int32"):
    """Random integers."""
    return RNG.randint(low, high, size=shape).astype(dtype)


def bools(*shape):
    """Random booleans."""
    return RNG.rand(*shape) > 0.5


def case(name, *args, sym=1, tol=1e-5, check_dtype=True, id=None, **kwargs):
    """One parametrized case: `keras.ops.<name>(*args, **kwargs)`."""
    return pytest.param(name, args, kwargs, sym, tol, check_dtype, id=id or name)


def _leaves(value):
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_leaves(item))
        return out
    return [value]


def _to_torch(value):
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    return value


def _numpy(value):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dtype == torch.bfloat16:
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def _dtype(value):
    if isinstance(value, torch.Tensor):
        return str(value.dtype)
    return type(value).__name__


def assert_same(ours, theirs, tol=1e-5, check_dtype=True):
    """Asserts equal structure, shapes, values (to `tol`) and dtypes."""
    ours_leaves, theirs_leaves = _leaves(ours), _leaves(theirs)
    assert len(ours_leaves) == len(theirs_leaves), (ours, theirs)
    for a, b in zip(ours_leaves, theirs_leaves):
        if check_dtype:
            assert _dtype(a) == _dtype(b), (_dtype(a), _dtype(b))
        a_np, b_np = _numpy(a), _numpy(b)
        assert a_np.shape == b_np.shape, (a_np.shape, b_np.shape)
        if a_np.dtype.kind in "biu" and b_np.dtype.kind in "biu":
            np.testing.assert_array_equal(a_np, b_np)
        else:
            np.testing.assert_allclose(
                a_np.astype("float64"), b_np.astype("float64"), rtol=tol, atol=tol, equal_nan=True
            )


def check_eager(keras, name, args, kwargs, tol=1e-5, check_dtype=True):
    """Runs the op in both libraries on torch tensors; returns ours after comparing."""
    torch_args = [_to_torch(a) for a in args]
    theirs = getattr(keras.ops, name)(*torch_args, **kwargs)
    ours = getattr(kops, name)(*[_to_torch(a) for a in args], **kwargs)
    assert_same(ours, theirs, tol=tol, check_dtype=check_dtype)
    return ours


def check_symbolic(keras, name, args, kwargs, sym=1, tol=1e-5):
    """Builds `Model(inputs, op(inputs...))` and checks it against the eager op and Keras's shapes.

    The first `sym` array arguments become `Input`s (batch dimension left unknown); the rest stay
    constants.
    """
    if sym == 0:
        return
    op = getattr(kops, name)
    inputs = [keraslike.Input(np.shape(a)[1:], dtype=str(np.asarray(a).dtype)) for a in args[:sym]]
    constants = [_to_torch(a) for a in args[sym:]]
    outputs = op(*inputs, *constants, **kwargs)
    model = keraslike.Model(inputs if sym > 1 else inputs[0], outputs)
    data = [_to_torch(a) for a in args[:sym]]
    result = model(data if sym > 1 else data[0])
    eager = op(*data, *constants, **kwargs)
    assert_same(result, eager, tol=tol)
    for kt, value in zip(_leaves(outputs), _leaves(eager)):
        assert kt.dtype == str(value.dtype).replace("torch.", "")
    k_inputs = [keras.Input(np.shape(a)[1:], dtype=str(np.asarray(a).dtype)) for a in args[:sym]]
    k_outputs = getattr(keras.ops, name)(*k_inputs, *constants, **kwargs)
    ours_shapes = [tuple(t.shape) for t in _leaves(outputs)]
    theirs_shapes = [tuple(t.shape) for t in _leaves(k_outputs)]
    assert ours_shapes == theirs_shapes
