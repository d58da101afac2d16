"""Parity of keraslike.ops' NumPy-style ops with Keras 3 (torch backend), eager and in a graph."""

import numpy as np
import pytest
import torch

from keraslike import ops
from tests.ops.harness import bools, case, check_eager, check_symbolic, f, ints, pos, unit

UNARY_FLOAT = [
    "abs", "absolute", "negative", "square", "exp", "exp2", "expm1", "sin", "cos", "tan", "tanh",
    "arctan", "sinh", "cosh", "arcsinh", "sign", "floor", "ceil", "round", "trunc", "isnan",
    "isinf", "isfinite", "logical_not", "nan_to_num", "ravel", "copy",
]
UNARY_POSITIVE = ["sqrt", "log", "log1p", "log2", "log10", "reciprocal", "arccosh"]
UNARY_UNIT = ["arcsin", "arccos", "arctanh"]
UNARY_INT = ["abs", "negative", "square", "exp", "sqrt", "log1p", "sign", "floor", "ceil",
             "round", "sin", "tanh", "logical_not"]

BINARY = [
    "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "equal",
    "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
    "logical_xor", "arctan2", "floor_divide", "mod",
]

CASES = (
    [case(n, f(4, 3), id=f"{n}-f32") for n in UNARY_FLOAT]
    + [case(n, pos(4, 3) + (1.0 if n == "arccosh" else 0.0), id=f"{n}-pos") for n in UNARY_POSITIVE]
    + [case(n, unit(4, 3), id=f"{n}-unit") for n in UNARY_UNIT]
    + [case(n, ints(4, 3, low=-3, high=4), id=f"{n}-int") for n in UNARY_INT]
    + [case(n, f(4, 3), f(4, 3), sym=2, id=f"{n}-ff") for n in BINARY if n not in ("floor_divide", "mod")]
    + [case(n, pos(4, 3), pos(1, 3) + 0.5, id=f"{n}-broadcast") for n in ("floor_divide", "mod", "divide")]
    + [case(n, ints(4, 3), ints(4, 3, low=1), sym=2, id=f"{n}-ii") for n in BINARY]
    + [
        case("add", f(4, 3), ints(4, 3), sym=2, id="add-mixed"),
        case("add", ints(4, 3), bools(4, 3), sym=2, id="add-int-bool"),
        case("multiply", f(4, 3).astype("float16"), f(4, 3), sym=2, tol=1e-3, id="mul-f16-f32"),
        case("power", pos(4, 3), f(4, 3), sym=2),
        case("power", ints(4, 3), ints(4, 3), sym=2, id="power-int"),
        case("subtract", bools(4, 3), f(4, 3), sym=2, id="subtract-bool"),
        case("clip", f(4, 3), x_min=-0.5, x_max=0.5),
        case("clip", ints(4, 3), x_min=1, x_max=3, id="clip-int"),
        case("clip", bools(4, 3), x_min=0, x_max=1, id="clip-bool"),
        case("where", bools(4, 3), f(4, 3), f(4, 3), sym=3),
        case("isclose", f(4, 3), f(4, 3), sym=2),
        # Products.
        case("matmul", f(4, 3), f(3, 5)),
        case("matmul", f(2, 4, 3), f(2, 3, 5), sym=2, id="matmul-batched"),
        case("matmul", ints(4, 3), ints(3, 5), id="matmul-int"),
        case("matmul", ints(4, 3, dtype="int8"), ints(3, 5, dtype="int8"), id="matmul-int8"),
        case("matmul", f(4, 3), ints(3, 2), id="matmul-mixed"),
        case("dot", f(4, 3), f(3, 5)),
        case("dot", f(4, 3), f(3), id="dot-vec"),
        case("tensordot", f(4, 3, 2), f(3, 2, 5), axes=2),
        case("tensordot", f(4, 3, 2), f(2, 3, 5), axes=([1, 2], [1, 0]), id="tensordot-axes"),
        case("tensordot", f(4, 3), f(3, 5), axes=[[1], [0]], id="tensordot-lists"),
        case("outer", f(4), f(3)),
        case("cross", f(4, 3), f(4, 3), sym=2),
        case("inner", f(4, 3), f(5, 3)),
        case("diag", f(4, 4), sym=0),
        case("diag", f(4), k=1, sym=0, id="diag-vec"),
        case("diagonal", f(4, 3, 3), axis1=1, axis2=2),
        case("trace", f(4, 3, 3), axis1=1, axis2=2),
        case("trace", ints(3, 3, dtype="int8"), sym=0, id="trace-int8"),
        case("tril", f(4, 3, 3), k=-1),
        case("triu", f(4, 3, 3), k=1),
        # Reductions.
        case("sum", f(4, 3)),
        case("sum", f(4, 3, 2), axis=1, id="sum-axis"),
        case("sum", f(4, 3, 2), axis=(1, 2), keepdims=True, id="sum-axes-keep"),
        case("sum", ints(4, 3), axis=-1, id="sum-int"),
        case("sum", bools(4, 3), axis=1, id="sum-bool"),
        case("sum", ints(4, 3, dtype="int8"), axis=1, id="sum-int8"),
        case("mean", f(4, 3), axis=1),
        case("mean", f(4, 3, 2), axis=(0, 2), keepdims=True, id="mean-axes"),
        case("mean", ints(4, 3), axis=1, id="mean-int"),
        case("mean", f(4, 3).astype("float16"), axis=1, tol=1e-3, id="mean-f16"),
        case("max", f(4, 3), axis=1),
        case("max", f(4, 3), axis=1, keepdims=True, initial=0.2, id="max-initial"),
        case("max", ints(4, 3), axis=0, id="max-int"),
        case("min", f(4, 3), axis=-1),
        case("min", f(4, 3, 2), axis=(1, 2), id="min-axes"),
        case("amax", f(4, 3), axis=1),
        case("amin", f(4, 3), axis=1),
        case("prod", f(4, 3), axis=1),
        case("prod", ints(4, 3), axis=1, id="prod-int"),
        case("prod", f(4, 3, 2), axis=(1, 2), id="prod-axes"),
        case("prod", bools(4, 3), axis=1, id="prod-bool"),
        case("std", f(4, 3), axis=1),
        case("std", ints(4, 3), axis=1, id="std-int"),
        case("var", f(4, 3, 2), axis=(1, 2), keepdims=True),
        case("var", ints(4, 3), axis=1, id="var-int"),
        case("argmax", f(4, 3), axis=1),
        case("argmax", f(4, 3), sym=0, id="argmax-flat"),
        case("argmax", f(4, 3), axis=-1, keepdims=True, id="argmax-keep"),
        case("argmax", bools(4, 3), axis=1, id="argmax-bool"),
        case("argmin", f(4, 3), axis=1),
        case("cumsum", f(4, 3), axis=1),
        case("cumsum", f(4, 3), sym=0, id="cumsum-flat"),
        case("cumsum", ints(4, 3), axis=1, id="cumsum-int"),
        case("cumsum", bools(4, 3), axis=1, id="cumsum-bool"),
        case("cumsum", ints(4, 3), axis=1, dtype="float32", id="cumsum-dtype"),
        case("cumprod", f(4, 3), axis=1),
        case("all", bools(4, 3), axis=1),
        case("all", f(4, 3), sym=0, id="all-flat"),
        case("any", bools(4, 3), axis=1),
        case("any", ints(4, 3, 2), axis=(1, 2), keepdims=True, id="any-keep"),
        case("count_nonzero", ints(4, 3), axis=1),
        case("count_nonzero", ints(4, 3), sym=0, id="count_nonzero-all"),
        case("average", f(4, 3), axis=1),
        case("average", f(4, 3), axis=1, weights=pos(3), id="average-weights"),
        case("median", f(4, 5), axis=1),
        case("quantile", f(4, 5), 0.3, axis=1),
        case("logsumexp", f(4, 3), axis=1),
        # Shapes.
        case("reshape", f(4, 3, 2), (-1, 6)),
        case("reshape", f(4, 6), (4, 2, 3), sym=0, id="reshape-static"),
        case("transpose", f(4, 3, 2)),
        case("transpose", f(4, 3, 2), axes=(0, 2, 1), id="transpose-axes"),
        case("moveaxis", f(4, 3, 2), 1, -1),
        case("swapaxes", f(4, 3, 2), 1, 2),
        case("expand_dims", f(4, 3), 1),
        case("expand_dims", f(4, 3), -1, id="expand_dims-last"),
        case("expand_dims", f(4, 3), (1, 3), id="expand_dims-multi"),
        case("squeeze", f(4, 1, 3), axis=1),
        case("squeeze", f(4, 1, 3, 1), sym=0, id="squeeze-all"),
        case("broadcast_to", f(1, 3), (4, 3), sym=0),
        case("tile", f(4, 3), (1, 2)),
        case("tile", f(4, 3), 2, id="tile-int"),
        case("repeat", f(4, 3), 2, axis=1),
        case("repeat", f(4, 3), 2, sym=0, id="repeat-flat"),
        case("flip", f(4, 3), axis=1),
        case("flip", f(4, 3, 2), sym=0, id="flip-all"),
        case("roll", f(4, 3), 1, axis=1),
        case("roll", f(4, 3), 2, sym=0, id="roll-flat"),
        case("sort", f(4, 5), axis=-1),
        case("argsort", f(4, 5), axis=-1),
        case("argsort", f(4, 5), axis=None, sym=0, id="argsort-flat"),
        case("take", f(4, 5), np.array([0, 2, -1]), axis=1),
        case("take", f(6, 4), np.array([[0, 5], [-1, 2]]), axis=0, sym=0, id="take-embedding"),
        case("take", f(4, 5), np.array([1, 3]), sym=0, id="take-flat"),
        case("take_along_axis", f(4, 5), ints(4, 2), axis=1, sym=2),
        case("pad", f(4, 3), ((0, 0), (1, 2))),
        case("pad", f(4, 3, 5), ((0, 0), (1, 1), (2, 0)), mode="reflect", id="pad-reflect"),
        case("pad", f(4, 3), ((0, 0), (2, 1)), constant_values=1.5, id="pad-value"),
        case("cast", f(4, 3), "int32"),
        case("cast", ints(4, 3), "float16", id="cast-f16"),
        case("nan_to_num", np.array([[np.nan, np.inf, -np.inf, 1.0]], "float32"), nan=0.5,
             posinf=3.0, neginf=-3.0, id="nan_to_num-values"),
        case("diff", f(4, 5), axis=1),
        case("append", f(4, 3), f(4, 2), axis=1, sym=2),
    ]
)


@pytest.mark.parametrize("name,args,kwargs,sym,tol,check_dtype", CASES)
def test_numpy_op_parity(keras_oracle, name, args, kwargs, sym, tol, check_dtype):
    check_eager(keras_oracle, name, args, kwargs, tol=tol, check_dtype=check_dtype)
    check_symbolic(keras_oracle, name, args, kwargs, sym=sym, tol=tol)


LIST_CASES = [
    ("concatenate", {"axis": 1}),
    ("concatenate", {"axis": -1}),
    ("stack", {"axis": 1}),
    ("stack", {"axis": 0}),
]


@pytest.mark.parametrize("name,kwargs", LIST_CASES, ids=[f"{n}-{k}" for n, k in LIST_CASES])
def test_list_input_ops(keras_oracle, name, kwargs):
    import keraslike

    a, b = f(4, 3), f(4, 3)
    theirs = getattr(keras_oracle.ops, name)([torch.from_numpy(a), torch.from_numpy(b)], **kwargs)
    ours = getattr(ops, name)([torch.from_numpy(a), torch.from_numpy(b)], **kwargs)
    torch.testing.assert_close(ours, theirs)
    x, y = keraslike.Input((3,)), keraslike.Input((3,))
    out = getattr(ops, name)([x, y], **kwargs)
    model = keraslike.Model([x, y], out)
    torch.testing.assert_close(model([torch.from_numpy(a), torch.from_numpy(b)]), ours)
    kx, ky = keras_oracle.Input((3,)), keras_oracle.Input((3,))
    assert out.shape == getattr(keras_oracle.ops, name)([kx, ky], **kwargs).shape


@pytest.mark.parametrize("sections,axis", [(3, 1), ([1, 4], 1), (2, 0)])
def test_split(keras_oracle, sections, axis):
    import keraslike

    x = f(4, 6)
    theirs = keras_oracle.ops.split(torch.from_numpy(x), sections, axis=axis)
    ours = ops.split(torch.from_numpy(x), sections, axis=axis)
    assert isinstance(ours, list) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)
    if axis == 1:
        inp = keraslike.Input((6,))
        parts = ops.split(inp, sections, axis=axis)
        model = keraslike.Model(inp, parts)
        for a, b in zip(model(torch.from_numpy(x)), ours):
            torch.testing.assert_close(a, b)
        k_parts = keras_oracle.ops.split(keras_oracle.Input((6,)), sections, axis=axis)
        assert [p.shape for p in parts] == [p.shape for p in k_parts]


CREATION = [
    ("zeros", ((2, 3),), {}),
    ("zeros", (3,), {"dtype": "int32"}),
    ("ones", ((2, 3),), {"dtype": "bool"}),
    ("full", ((2, 3), 7), {}),
    ("full", ((2, 3), 1.5), {"dtype": "float16"}),
    ("arange", (5,), {}),
    ("arange", (1, 7, 2), {}),
    ("arange", (0.0, 1.0, 0.25), {}),
    ("arange", (5,), {"dtype": "float32"}),
    ("linspace", (0.0, 1.0, 7), {}),
    ("linspace", (0, 10, 5), {"endpoint": False}),
    ("linspace", (0.0, 1.0, 5), {"retstep": True}),
    ("eye", (3,), {}),
    ("eye", (3, 4), {"k": 1}),
    ("eye", (4, 3), {"k": -2, "dtype": "int32"}),
    ("identity", (3,), {}),
    ("tri", (3, 4), {"k": 1}),
]


@pytest.mark.parametrize("name,args,kwargs", CREATION, ids=[f"{c[0]}-{i}" for i, c in enumerate(CREATION)])
def test_creation_ops(keras_oracle, name, args, kwargs):
    theirs = getattr(keras_oracle.ops, name)(*args, **kwargs)
    ours = getattr(ops, name)(*args, **kwargs)
    if isinstance(theirs, tuple):
        torch.testing.assert_close(ours[0], theirs[0])
        assert ours[1] == pytest.approx(float(theirs[1]))
    else:
        torch.testing.assert_close(ours, theirs)


def test_linspace_arrays(keras_oracle):
    start, stop = np.array([0.0, 1.0], "float32"), np.array([1.0, 3.0], "float32")
    theirs = keras_oracle.ops.linspace(start, stop, 5)
    torch.testing.assert_close(ops.linspace(start, stop, 5), theirs)
    np.testing.assert_allclose(ops.linspace(start, stop, 5, axis=1).numpy(), np.linspace(start, stop, 5, axis=1), rtol=1e-6)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like"])
def test_like_ops(keras_oracle, name):
    x = torch.from_numpy(ints(2, 3))
    for dtype in (None, "float32"):
        torch.testing.assert_close(getattr(ops, name)(x, dtype=dtype), getattr(keras_oracle.ops, name)(x, dtype=dtype))
    torch.testing.assert_close(ops.full_like(x, 2), keras_oracle.ops.full_like(x, 2))


def test_numpy_semantics_where_keras_torch_departs():
    x = torch.from_numpy(f(3, 4))
    # keepdims without an axis keeps every dim (Keras's torch backend returns a scalar).
    assert ops.sum(x, keepdims=True).shape == (1, 1)
    assert ops.max(x, keepdims=True).shape == (1, 1)
    assert ops.prod(x, keepdims=True).shape == (1, 1)
    # count_nonzero keeps the axis order.
    y = torch.from_numpy(ints(2, 3, 4))
    np.testing.assert_array_equal(ops.count_nonzero(y, axis=0).numpy(), np.count_nonzero(y.numpy(), axis=0))
    # cross uses the last axis.
    a, b = f(3, 3), f(3, 3)
    np.testing.assert_allclose(ops.cross(a, b).numpy(), np.cross(a, b), rtol=1e-5, atol=1e-6)
    # pad modes follow NumPy, a single pair pads every axis.
    z = f(3, 4)
    for mode in ("edge", "reflect", "symmetric", "wrap"):
        np.testing.assert_array_equal(
            ops.pad(z, ((2, 1), (3, 2)), mode=mode).numpy(), np.pad(z, ((2, 1), (3, 2)), mode=mode)
        )
    np.testing.assert_array_equal(ops.pad(z, (1, 2)).numpy(), np.pad(z, (1, 2)))
    # repeat with per-element counts (Keras's torch backend fails on a list).
    np.testing.assert_array_equal(ops.repeat(z, [1, 0, 2], axis=0).numpy(), np.repeat(z, [1, 0, 2], axis=0))


def test_python_and_numpy_inputs(keras_oracle):
    kops = keras_oracle.ops
    cases = [
        (ops.add, kops.add, ([1, 2, 3], 2)),
        (ops.add, kops.add, (np.ones(3, "float64"), 1.5)),
        (ops.multiply, kops.multiply, (torch.ones(3, dtype=torch.int32), 2.5)),
        (ops.subtract, kops.subtract, (2, torch.ones(3))),
        (ops.divide, kops.divide, (1.0, torch.full((3,), 4.0))),
        (ops.maximum, kops.maximum, (torch.arange(4, dtype=torch.int32), 1.5)),
        (ops.minimum, kops.minimum, (torch.arange(4, dtype=torch.float16), 2)),
        (ops.less, kops.less, (1, torch.arange(3))),
        (ops.power, kops.power, (2, torch.arange(3, dtype=torch.float32))),
        (ops.mean, kops.mean, ([1, 2, 4],)),
        (ops.convert_to_tensor, kops.convert_to_tensor, ([[1, 2], [3, 4]],)),
        (ops.convert_to_tensor, kops.convert_to_tensor, ([1.5, 2],)),
        (ops.convert_to_tensor, kops.convert_to_tensor, (7,)),
        (ops.convert_to_tensor, kops.convert_to_tensor, (np.arange(3, dtype="int64"),)),
        (ops.where, kops.where, (torch.tensor([True, False]), 1.0, 0)),
    ]
    for ours_fn, theirs_fn, args in cases:
        ours, theirs = ours_fn(*args), theirs_fn(*args)
        assert ours.dtype == theirs.dtype, (ours_fn.__name__, args, ours.dtype, theirs.dtype)
        torch.testing.assert_close(ours, theirs)


def test_unique_and_nonzero(keras_oracle):
    x = torch.tensor([3, 1, 3, 2, 1, 5])
    for kwargs in ({}, {"return_counts": True}, {"return_inverse": True}, {"return_index": True}, {"size": 6, "fill_value": -1}):
        ours, theirs = ops.unique(x, **kwargs), keras_oracle.ops.unique(x, **kwargs)
        ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    y = torch.from_numpy(ints(3, 4))
    torch.testing.assert_close(ops.nonzero(y), keras_oracle.ops.nonzero(y))
    cond = y > 2
    torch.testing.assert_close(ops.where(cond), keras_oracle.ops.where(cond))


def test_meshgrid(keras_oracle):
    a, b = torch.arange(3.0), torch.arange(4.0)
    for indexing in ("xy", "ij"):
        for o, t in zip(ops.meshgrid(a, b, indexing=indexing), keras_oracle.ops.meshgrid(a, b, indexing=indexing)):
            torch.testing.assert_close(o, t)


def test_einsum(keras_oracle):
    import keraslike

    a, b = f(4, 3, 5), f(5, 2)
    theirs = keras_oracle.ops.einsum("bij,jk->bik", torch.from_numpy(a), torch.from_numpy(b))
    ours = ops.einsum("bij,jk->bik", torch.from_numpy(a), torch.from_numpy(b))
    torch.testing.assert_close(ours, theirs)
    x = keraslike.Input((3, 5))
    y = ops.einsum("bij,jk->bik", x, torch.from_numpy(b))
    assert y.shape == keras_oracle.ops.einsum("bij,jk->bik", keras_oracle.Input((3, 5)), b).shape
    torch.testing.assert_close(keraslike.Model(x, y)(torch.from_numpy(a)), ours)
    i8 = torch.from_numpy(ints(3, 3, dtype="int8"))
    assert ops.einsum("ij,jk->ik", i8, i8).dtype == keras_oracle.ops.einsum("ij,jk->ik", i8, i8).dtype


def test_shape_queries(keras_oracle):
    import keraslike

    x = torch.zeros(2, 3)
    assert ops.shape(x) == (2, 3) and type(ops.shape(x)) is tuple
    assert ops.ndim(x) == 2
    assert ops.dtype(x) == "float32" and ops.dtype(torch.zeros(1, dtype=torch.int8)) == "int8"
    torch.testing.assert_close(ops.size(x), keras_oracle.ops.size(x))
    kt = keraslike.Input((3, None))
    assert ops.shape(kt) == keras_oracle.ops.shape(keras_oracle.Input((3, None))) == (None, 3, None)
    assert ops.ndim(kt) == 3 and ops.dtype(kt) == "float32"
    assert ops.size(kt).shape == ()
