"""Output dtypes and values of `keras.ops` against Keras 3 (torch backend) for every input dtype.

Keras routes many ops' result dtype through `keras.backend.result_type`, which narrows 64-bit
results to 32 bits (so `float64` inputs give `float32` there), treats Python scalars as weak
types in some ops and converts them to `int32`/`float32` tensors in others. Each test feeds one
op NumPy arrays of every dtype (2-D, 1-D and 0-d), Python scalars, array-scalar pairs and
mixed-dtype pairs, and compares the dtype and the values of the result with Keras's. Inputs
Keras itself refuses are skipped (keraslike may accept more).
"""

import itertools

import numpy as np
import pytest
import torch

from keraslike import ops
from tests.ops.harness import assert_same

RNG = np.random.RandomState(7)
DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")


def _array(dtype, shape):
    if dtype == "bool":
        return RNG.rand(*shape) > 0.4
    if dtype.startswith("float"):
        return RNG.uniform(0.1, 0.9, shape).astype(dtype)
    return RNG.randint(1, 4, shape).astype(dtype)


ARRAYS = {(d, s): _array(d, s) for d in DTYPES for s in ((3, 3), (3,), ())}
# Dtypes NumPy lacks (or Keras converts differently) are given as torch tensors.
TORCH_DTYPES = {"bfloat16": torch.bfloat16, "int8": torch.int8, "int16": torch.int16}
TENSORS = {
    (d, s): torch.from_numpy(_array("float32" if d == "bfloat16" else "int32", s)).to(t)
    for d, t in TORCH_DTYPES.items()
    for s in ((3, 3), (3,), ())
}


def unary_inputs():
    """`(label, args)` for one-argument calls: every dtype and rank, and Python scalars."""
    for (dtype, shape), x in {**ARRAYS, **TENSORS}.items():
        yield f"{dtype}{shape}", (x,)
    yield "int", (2,)
    yield "float", (0.5,)


def binary_inputs():
    """`(label, args)` for two-argument calls: same-dtype and mixed pairs, arrays with scalars."""
    arrays = {**ARRAYS, **TENSORS}
    for (dtype, shape), x in arrays.items():
        yield f"{dtype}{shape}", (x, arrays[dtype, shape].flip(0) if shape and dtype in TORCH_DTYPES
                                  else x[::-1] if shape else x)
        yield f"{dtype}{shape},int", (x, 2)
        yield f"{dtype}{shape},float", (x, 0.5)
        yield f"int,{dtype}{shape}", (3, x)
        yield f"float,{dtype}{shape}", (0.25, x)
    for a, b in itertools.permutations(DTYPES + tuple(TORCH_DTYPES), 2):
        yield f"{a},{b}", (arrays[a, (3,)], arrays[b, (3,)])
    yield "int,int", (2, 3)
    yield "float,float", (0.5, 0.25)


def _call(library, name, args, kwargs):
    fn = library
    for part in name.split("."):
        fn = getattr(fn, part)
    copies = [np.copy(a) if isinstance(a, np.ndarray) else a.clone() if isinstance(a, torch.Tensor)
              else a for a in args]
    return fn(*copies, **kwargs)


def check_all(keras, name, inputs, tol=1e-6, min_rank=0, **kwargs):
    """Compares keraslike's `name` with Keras's on every input Keras accepts (whose first argument
    has at least `min_rank` dimensions); returns how many it compared."""
    compared, failures = 0, []
    for label, args in inputs:
        if np.ndim(args[0]) < min_rank:
            continue
        try:
            theirs = _call(keras.ops, name, args, kwargs)
        except Exception:  # Keras refuses this input: nothing to match
            continue
        try:
            ours = _call(ops, name, args, kwargs)
            half = "float16" in str(getattr(theirs, "dtype", ""))
            assert_same(ours, theirs, tol=1e-2 if half else tol)
        except Exception as error:  # collect every mismatch, report them together
            failures.append(f"{label}: {type(error).__name__}: {error}"[:300])
        compared += 1
    assert not failures, f"{name}{kwargs}: {len(failures)} of {compared} differ:\n" + "\n".join(
        failures
    )
    return compared


UNARY = [
    ("ceil", {}),
    ("floor", {}),
    ("cumsum", {}),
    ("cumsum", {"axis": 0}),
    ("cumsum", {"dtype": "float64"}),
    ("cumprod", {}),
    ("cumprod", {"axis": -1}),
    ("nancumsum", {}),
    ("nancumprod", {}),
    ("prod", {}),
    ("prod", {"axis": 0, "keepdims": True}),
    ("prod", {"dtype": "int64"}),
    ("nanprod", {}),
    ("nanprod", {"axis": 0}),
    ("median", {}),
    ("median", {"axis": 0}),
    ("quantile", {"q": 0.3}),
    ("quantile", {"q": [0.25, 0.75], "axis": 0}),
    ("percentile", {"q": 40}),
    ("var", {}),
    ("var", {"axis": 0, "keepdims": True}),
    ("std", {}),
    ("std", {"axis": -1}),
    ("mean", {}),
    ("mean", {"axis": 0}),
    ("average", {}),
    ("average", {"axis": -1, "weights": np.array([0.2, 0.3, 0.5])}),
    ("norm", {}),
    ("norm", {"axis": -1}),
    ("linalg.norm", {}),
    ("normalize", {}),
    ("normalize", {"order": 1}),
    ("squareplus", {}),
    ("squareplus", {"b": 0.5}),
]

BINARY = [
    "arctan2", "divide_no_nan", "floor_divide", "maximum", "minimum", "fmax", "fmin", "add",
    "subtract", "multiply", "divide", "true_divide", "mod", "power", "matmul", "dot", "inner",
    "tensordot", "vdot", "outer", "cross",
]


def _id(param):
    name, kwargs = param
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("name,kwargs", UNARY, ids=[_id(p) for p in UNARY])
def test_unary_dtypes_match_keras(keras_oracle, name, kwargs):
    # NumPy refuses weights for a 0-d `x` (Keras's torch backend broadcasts them).
    min_rank = 1 if "weights" in kwargs else 0
    assert check_all(keras_oracle, name, unary_inputs(), min_rank=min_rank, **kwargs) >= 8


@pytest.mark.parametrize("name", BINARY)
def test_binary_dtypes_match_keras(keras_oracle, name):
    kwargs = {"axes": 1} if name == "tensordot" else {}
    inputs = binary_inputs()
    if name == "cross":
        # Keras's torch backend crosses (3, 3) inputs along their *first* axis (torch's deprecated
        # default); NumPy and keraslike use the last. Compare on 1-D inputs and (2, 3) pairs.
        inputs = [(label, args) for label, args in inputs if "(3, 3)" not in label]
        inputs += [(d, (_array(d, (2, 3)), _array(d, (2, 3)))) for d in DTYPES]
    assert check_all(keras_oracle, name, inputs, **kwargs) >= 40


def test_float64_results_are_32_bit_as_in_keras():
    x = np.array([[0.25, 0.5], [0.75, 1.0]])
    for name in ("ceil", "floor", "cumsum", "prod", "median", "var", "norm", "average"):
        assert str(getattr(ops, name)(x).dtype) == "torch.float32", name
    assert str(ops.maximum(x, x).dtype) == "torch.float32"
    assert str(ops.matmul(x, x).dtype) == "torch.float32"
    assert str(ops.std(x).dtype) == "torch.float64"  # Keras's std keeps the input dtype
    assert str(ops.mean(x).dtype) == "torch.float64"  # ... and so does its mean
    assert str(ops.outer(x, x).dtype) == "torch.float64"  # torch promotion, no result_type
    assert str(ops.cumsum(np.arange(3)).dtype) == "torch.int32"


def test_linspace_dtypes_match_keras(keras_oracle):
    pairs = [(np.float16(0.5), np.float16(2.0)), (0, 5), (0.0, 1), (np.array([0.0, 1.0]),
             np.array([2.0, 3.0])), (np.array([0, 1], "float16"), np.array([2, 3], "float16")),
             (np.array([0, 1]), np.array([4, 5]))]
    for start, stop in pairs:
        theirs = keras_oracle.ops.linspace(start, stop, num=5)
        assert_same(ops.linspace(start, stop, num=5), theirs, tol=1e-3)


def test_cdist_dtypes_match_keras(keras_oracle):
    for dtype in ("float64", "float32", "float16", "int64", "int32"):
        a, b = _array(dtype, (2, 4, 3)), _array(dtype, (2, 5, 3))
        assert_same(ops.cdist(a, b), keras_oracle.ops.cdist(a, b), tol=1e-3)
    # Unsigned differences do not wrap around (Keras's would): distances as for int32 inputs.
    a, b = _array("uint8", (4, 3)), _array("uint8", (5, 3))
    expected = keras_oracle.ops.cdist(a.astype("int32"), b.astype("int32"))
    assert_same(ops.cdist(a, b), expected)
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.cdist(np.ones(3), np.ones((2, 3)))


def test_normalize_float16_is_finite(keras_oracle):
    x = np.array([[3.0, 4.0], [0.0, 0.0]], "float16")
    ours = ops.normalize(x)
    assert_same(ours, keras_oracle.ops.normalize(x), tol=1e-3)
    np.testing.assert_allclose(ours[0].float().numpy(), [0.6, 0.8], atol=1e-3)


def test_numpy_sizes_and_integer_outputs_accepted_as_keras(keras_oracle):
    x = np.array([1.0, 2.0, 3.0], "float32")
    for repeats in (np.array([1, 2, 1]), np.int64(2), np.array(2), 2.0):
        assert_same(ops.repeat(x, repeats), keras_oracle.ops.repeat(x, repeats))
    repeats = torch.tensor([1, 0, 2], dtype=torch.int8)
    assert_same(ops.repeat(x, repeats), keras_oracle.ops.repeat(x, repeats))
    assert_same(ops.eye(np.array(3)), keras_oracle.ops.eye(np.array(3)))
    for args in ((torch.tensor(4, dtype=torch.int8),), (torch.tensor(1.0, dtype=torch.float64), 4),
                 (np.int64(1), 5), (1, 4.0, 0.5), (5,)):
        assert_same(ops.arange(*args), keras_oracle.ops.arange(*args))
    assert_same(ops.identity(np.int32(2)), keras_oracle.ops.identity(np.int32(2)))
    target, output = np.array([0.0, 1.0], "float32"), np.array([1, 0], "int32")
    assert_same(
        ops.binary_crossentropy(target, output),
        keras_oracle.ops.binary_crossentropy(target, output),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_saturate_cast_patches_log_softmax_match_keras(keras_oracle, dtype):
    x = _array(dtype, (2, 3))
    cond = _array("bool", (2, 3))
    for args in ((cond, x, 0), (cond, 0.5, x), (cond, x, x[::-1].copy()), (np.bool_(True), x[0, 0], 1)):
        assert_same(ops.where(*args), keras_oracle.ops.where(*args), tol=1e-3)
    # (Keras's saturate_cast of integers to float32 gives -2**31 everywhere: not compared.)
    for target in ("uint8", "int32") + (("float32",) if dtype.startswith("float") else ()):
        assert_same(ops.saturate_cast(x, target), keras_oracle.ops.saturate_cast(x, target))
    if dtype != "bool":
        images = _array(dtype, (1, 4, 4, 2))
        assert_same(
            ops.image.extract_patches(images, 2), keras_oracle.ops.image.extract_patches(images, 2)
        )
    if dtype.startswith("float"):
        assert_same(ops.log_softmax(x), keras_oracle.ops.log_softmax(x), tol=1e-3)


def test_correlate_dtypes_match_keras_and_needs_vectors(keras_oracle):
    for a, b in itertools.product(("float64", "float16", "int64", "int32", "bool"), repeat=2):
        x, y = _array(a, (5,)), _array(b, (3,))
        for mode in ("same", "full"):  # (Keras squeezes "valid"'s length-1 result to 0-d)
            assert_same(
                ops.correlate(x, y, mode=mode),
                keras_oracle.ops.correlate(x, y, mode=mode),
                tol=1e-2,
            )
    with pytest.raises(ValueError, match="`x1` must be a 1-dimensional tensor"):
        ops.correlate(np.ones((2, 3)), np.ones(3))
