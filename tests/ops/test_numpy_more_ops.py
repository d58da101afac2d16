"""Parity of the NumPy-family ops added for Keras 3 API breadth (bitwise, statistics, windows,
complex parts, array helpers) with Keras 3 (torch backend), eager and in a graph."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import ops
from tests.ops.harness import case, check_eager, check_symbolic, f, ints, pos, unit

RNG = np.random.RandomState(1)


def with_nans(*shape):
    x = RNG.randn(*shape).astype("float32")
    x[RNG.rand(*shape) < 0.3] = np.nan
    return x


NANS = with_nans(4, 5)
NANS[0] = np.nan  # one all-NaN row
CPLX = (RNG.randn(3, 4) + 1j * RNG.randn(3, 4)).astype("complex64")
SORTED = np.sort(RNG.randn(7).astype("float32"))

BITWISE = [
    case(n, ints(4, 3, high=64), ints(4, 3, high=64), sym=2)
    for n in ("bitwise_and", "bitwise_or", "bitwise_xor")
] + [
    case("bitwise_and", RNG.rand(3, 4) > 0.5, RNG.rand(3, 4) > 0.5, sym=2, id="and-bool"),
    case("bitwise_invert", ints(4, 3, high=64)),
    case("bitwise_not", RNG.rand(3, 4) > 0.5),
    case("bitwise_left_shift", ints(4, 3, high=64), ints(4, 3, high=4), sym=2),
    case("left_shift", ints(4, 3, high=64), 2, id="left_shift-int"),
    case("bitwise_right_shift", ints(4, 3, high=64), ints(4, 3, high=4), sym=2),
    case("right_shift", ints(4, 3, high=64), 1),
]

ELEMENTWISE = [
    case("angle", f(3, 4)),
    case("real", CPLX, sym=0),
    case("imag", CPLX, sym=0),
    case("conj", CPLX, sym=0),
    case("conjugate", CPLX, sym=0),
    case("isreal", f(3, 4)),
    case("cbrt", f(3, 4) * 5),
    case("cbrt", ints(3, 4, low=-8, high=9), id="cbrt-int"),
    case("deg2rad", f(3, 4) * 90),
    case("rad2deg", f(3, 4)),
    case("fabs", ints(3, 4, low=-5)),
    case("fabs", f(3, 4), id="fabs-float"),
    case("fmax", NANS, f(4, 5), sym=2),
    case("fmin", NANS, f(4, 5), sym=2),
    case("fmax", f(3, 4), 0.5, id="fmax-scalar"),
    case("fmod", f(3, 4) * 5, pos(3, 4), sym=2),
    case("fmod", ints(3, 4, low=-9, high=9), ints(3, 4, low=1, high=4), sym=2, id="fmod-int"),
    case("gcd", ints(3, 4, high=30), ints(3, 4, high=30), sym=2),
    case("lcm", ints(3, 4, high=12), ints(3, 4, high=12), sym=2),
    case("heaviside", np.array([[-1.0, 0.0, 2.0]], "float32"), np.array([[0.5]], "float32"), sym=0),
    case("heaviside", ints(3, 4, low=-2, high=3), ints(3, 4), sym=2, id="heaviside-int"),
    case("hypot", f(3, 4), f(3, 4), sym=2),
    case("hypot", ints(3, 4), ints(3, 4), sym=2, id="hypot-int"),
    case("i0", f(3, 4)),
    case("i0", ints(3, 4), id="i0-int"),
    case("isneginf", np.array([[-np.inf, 1.0, np.inf]], "float32")),
    case("isposinf", np.array([[-np.inf, 1.0, np.inf]], "float32")),
    case("signbit", np.array([[-0.0, 1.0, -2.0]], "float32")),
    case("sinc", f(3, 4)),
    case("ldexp", f(3, 4), ints(3, 4, high=4), sym=2),
    case("logaddexp", f(3, 4), f(3, 4), sym=2),
    case("logaddexp", ints(3, 4), f(3, 4), sym=2, id="logaddexp-mixed"),
    case("logaddexp2", f(3, 4), f(3, 4), sym=2),
    case("nextafter", f(3, 4), f(3, 4), sym=2),
    case("allclose", f(3, 4), f(3, 4), sym=0),
    case("isin", ints(3, 4, high=10), ints(5, high=10), sym=1),
    case("isin", ints(3, 4, high=10), ints(5, high=10), invert=True, sym=1, id="isin-invert"),
]

STATISTICS = [
    case(name, NANS, **kw, id=f"{name}-{i}")
    for name in ("nanmax", "nanmin", "nanargmax", "nanargmin", "nansum", "nanprod", "nanmean",
                 "nanvar", "nanstd", "nanmedian")
    for i, kw in enumerate([{}, {"axis": 1}, {"axis": 0, "keepdims": True}])
] + [
    case("nansum", ints(3, 4), axis=1, id="nansum-int"),
    case("nanmax", ints(3, 4), id="nanmax-int"),
    case("nancumsum", NANS, axis=1),
    case("nancumsum", NANS, id="nancumsum-flat"),
    case("nancumprod", NANS, axis=0),
    case("nanquantile", NANS, 0.3, axis=1),
    case("nanquantile", NANS, np.array([0.2, 0.7], "float32"), axis=1, keepdims=True, sym=1,
         id="nanquantile-many"),
    case("nanpercentile", NANS, 40.0, axis=1),
    case("percentile", f(4, 5), 25.0),
    case("percentile", f(4, 5), np.array([10.0, 90.0], "float32"), axis=0, method="nearest",
         sym=1, id="percentile-nearest"),
    case("ptp", f(4, 5)),
    case("ptp", f(4, 5), axis=1, keepdims=True, id="ptp-axis"),
    case("corrcoef", f(3, 6), sym=0),
    case("bincount", ints(8, high=6), sym=0),
    case("bincount", ints(8, high=6), weights=pos(8), minlength=9, sym=0, id="bincount-w"),
    case("bincount", ints(3, 5, high=4), minlength=4, sym=0, id="bincount-2d"),
    case("histogram", f(50), sym=0),
    case("histogram", f(50), bins=4, range=(-1.0, 1.0), sym=0, id="histogram-range"),
    case("digitize", f(4, 5), SORTED),
    case("searchsorted", SORTED, f(6), sym=0),
    case("searchsorted", SORTED, f(6), side="right", sym=0, id="searchsorted-right"),
    case("trapezoid", f(4, 5)),
    case("trapezoid", f(4, 5), dx=0.5, axis=0, sym=0, id="trapezoid-dx"),
]

WINDOWS = [case(n, 7, sym=0) for n in ("bartlett", "blackman", "hamming", "hanning")] + [
    case("kaiser", 8, 3.0, sym=0),
]

ARRAYS = [
    case("hsplit", f(4, 6), 3, sym=0),
    case("vsplit", f(4, 6), [1, 3], sym=0),
    case("dsplit", f(2, 3, 4), 2, sym=0),
    case("dstack", [f(3, 4), f(3, 4)], sym=0),
    case("fliplr", f(3, 4)),
    case("flipud", f(3, 4)),
    case("rot90", f(3, 4, 2)),
    case("rot90", f(3, 4, 2), k=3, axes=(1, 2), id="rot90-axes"),
    case("diagflat", f(2, 2), sym=0),
    case("diagflat", f(3), k=1, sym=0, id="diagflat-k"),
    case("kron", f(2, 3), f(3, 2), sym=2),
    case("vander", f(4), sym=0),
    case("vander", ints(4), N=3, increasing=True, sym=0, id="vander-int"),
    case("unravel_index", ints(5, high=12), (3, 4), sym=0),
    case("select", [np.array([True, False, False]), np.array([False, True, False])],
         [f(3), f(3)], sym=0),
    case("correlate", f(8), f(3), sym=0),
    case("correlate", f(8), f(3), mode="same", sym=0, id="correlate-same"),
    case("correlate", f(8), f(3), mode="full", sym=0, id="correlate-full"),
    case("logspace", 0.0, 2.0, 5, sym=0),
    case("logspace", 0.0, 2.0, 5, endpoint=False, base=2, sym=0, id="logspace-base"),
    case("geomspace", 1.0, 1000.0, 4, sym=0),
    case("get_item", f(4, 5), 2, sym=0),
    case("view", f(3, 4), "int32", sym=0),
]

CASES = BITWISE + ELEMENTWISE + STATISTICS + WINDOWS + ARRAYS


@pytest.mark.parametrize("name,args,kwargs,sym,tol,check_dtype", CASES)
def test_numpy_family_parity(keras_oracle, name, args, kwargs, sym, tol, check_dtype):
    check_eager(keras_oracle, name, args, kwargs, tol=tol, check_dtype=check_dtype)
    check_symbolic(keras_oracle, name, args, kwargs, sym=sym, tol=tol)


def test_exported_in_numpy_namespace():
    for name in ("bitwise_and", "nanmean", "hanning", "kron", "vectorize"):
        assert getattr(ops.numpy, name) is getattr(ops, name)


def test_complex_parts_exact(keras_oracle):
    c = torch.from_numpy(CPLX)
    for name in ("conj", "conjugate", "imag", "real", "angle"):
        assert torch.equal(getattr(ops, name)(c), getattr(keras_oracle.ops, name)(c))


def test_argpartition_partitions():
    x = torch.from_numpy(f(3, 7))
    index = ops.argpartition(x, 2, axis=1)
    assert index.dtype == torch.int32
    values = torch.gather(x, 1, index.long())
    smallest = torch.sort(x, dim=1).values
    assert torch.equal(torch.sort(values[:, :3], dim=1).values, smallest[:, :3])
    assert torch.all(values[:, 3:].min(dim=1).values >= values[:, :3].max(dim=1).values)
    assert sorted(index[0].tolist()) == list(range(7))


def test_vectorize_matches_keras(keras_oracle):
    a, b = torch.from_numpy(f(4, 3)), torch.from_numpy(f(4, 3))
    ours = ops.vectorize(lambda x, y: torch.dot(x, y), signature="(n),(n)->()")(a, b)
    theirs = keras_oracle.ops.vectorize(lambda x, y: keras_oracle.ops.dot(x, y),
                                        signature="(n),(n)->()")(a, b)
    assert torch.allclose(ours, theirs)
    scalar = ops.vectorize(lambda x: x * 2 + 1)(a)
    assert torch.allclose(scalar, a * 2 + 1)


def test_nan_ops_in_model():
    inputs = keraslike.Input((5,))
    model = keraslike.Model(inputs, ops.nanmean(inputs, axis=1))
    x = torch.from_numpy(NANS)
    assert torch.allclose(model(x), torch.nanmean(x, dim=1), equal_nan=True)
