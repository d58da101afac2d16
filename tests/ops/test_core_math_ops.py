"""Parity of keraslike.ops' core and math ops with Keras 3 (torch backend), eager and in a graph."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import ops
from tests.ops.harness import case, check_eager, check_symbolic, f, ints, pos, unit

CASES = [
    case("cast", f(4, 3), "float16"),
    case("stop_gradient", f(4, 3)),
    case("top_k", f(4, 6), 3),
    case("top_k", f(4, 6), 2, sorted=True, id="top_k-2"),
    case("logsumexp", f(4, 3, 2), axis=(1, 2), keepdims=True),
    case("logsumexp", f(4, 3), sym=0, id="logsumexp-all"),
    case("erf", f(4, 3)),
    case("erfinv", unit(4, 3)),
    case("rsqrt", pos(4, 3)),
    case("norm", f(4, 3), axis=-1),
    case("norm", f(4, 3, 3), ord="fro", axis=(1, 2), keepdims=True, id="norm-fro"),
    case("norm", f(4, 3), ord=1, axis=1, id="norm-l1"),
    case("norm", f(4, 3), sym=0, id="norm-all"),
    case("rfft", f(4, 8)),
    case("rfft", f(4, 8), fft_length=6, id="rfft-len"),
    case("extract_sequences", f(4, 10), 4, 2),
    case("segment_sum", f(6, 3), np.array([0, 0, 1, 2, 2, 2]), num_segments=3, sym=0),
    case("segment_max", f(6, 3), np.array([0, 0, 1, 2, 2, 2]), num_segments=4, sym=0),
    case("segment_sum", f(6, 3), np.array([0, 0, 1, 2, 2, 2]), sym=0, id="segment_sum-infer"),
    case("det", f(4, 3, 3), tol=1e-4),
    case("inv", f(4, 3, 3) + 3 * np.eye(3, dtype="float32"), tol=1e-4),
    case("solve", f(4, 3, 3) + 3 * np.eye(3, dtype="float32"), f(4, 3, 2), sym=2, tol=1e-4),
    case("unstack", f(4, 3, 2), axis=1, check_dtype=False),
]


@pytest.mark.parametrize("name,args,kwargs,sym,tol,check_dtype", CASES)
def test_core_math_op_parity(keras_oracle, name, args, kwargs, sym, tol, check_dtype):
    check_eager(keras_oracle, name, args, kwargs, tol=tol, check_dtype=check_dtype)
    check_symbolic(keras_oracle, name, args, kwargs, sym=sym, tol=tol)


def test_in_top_k(keras_oracle):
    predictions = torch.from_numpy(f(6, 5))
    targets = torch.from_numpy(ints(6, high=5))
    for k in (1, 2, 4):
        torch.testing.assert_close(
            ops.in_top_k(targets, predictions, k), keras_oracle.ops.in_top_k(targets, predictions, k)
        )


def test_fft_pairs(keras_oracle):
    real, imag = torch.from_numpy(f(3, 8)), torch.from_numpy(f(3, 8))
    for name in ("fft", "fft2", "ifft2"):
        for a, b in zip(getattr(ops, name)((real, imag)), getattr(keras_oracle.ops, name)((real, imag))):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    spectrum = ops.rfft(real)
    torch.testing.assert_close(ops.irfft(spectrum, 8), keras_oracle.ops.irfft(spectrum, 8))
    torch.testing.assert_close(ops.irfft(spectrum, 8), real, rtol=1e-5, atol=1e-5)
    x = keraslike.Input((8,))
    re, im = ops.rfft(x)
    model = keraslike.Model(x, [re, im])
    for a, b in zip(model(real), spectrum):
        torch.testing.assert_close(a, b)


def test_segment_symbolic_data():
    x = keraslike.Input(batch_shape=(4, 3))
    ids = torch.tensor([0, 1, 1, 0])
    out = ops.segment_sum(x, ids, num_segments=2)
    assert out.shape == (2, 3)
    data = torch.from_numpy(f(4, 3))
    torch.testing.assert_close(keraslike.Model(x, out)(data), torch.stack([data[0] + data[3], data[1] + data[2]]))


def test_cholesky_qr(keras_oracle):
    a = torch.from_numpy(f(3, 4, 4))
    spd = a @ a.transpose(-1, -2) + 4 * torch.eye(4)
    torch.testing.assert_close(ops.cholesky(spd), keras_oracle.ops.cholesky(spd))
    q, r = ops.qr(a)
    kq, kr = keras_oracle.ops.qr(a)
    torch.testing.assert_close(q, kq)
    torch.testing.assert_close(r, kr)


def test_convert_and_cast(keras_oracle):
    x = np.arange(6, dtype="float64").reshape(2, 3)
    assert ops.convert_to_tensor(x).dtype == keras_oracle.ops.convert_to_tensor(x).dtype
    assert ops.convert_to_tensor(x, dtype="float32").dtype == torch.float32
    assert ops.convert_to_tensor([True, False]).dtype == torch.bool
    assert ops.convert_to_tensor(2**40).dtype == torch.int64
    np.testing.assert_array_equal(ops.convert_to_numpy(torch.tensor([1.0, 2.0], requires_grad=True)), [1, 2])
    assert ops.convert_to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype.name == "bfloat16"  # ml_dtypes, as Keras
    kt = keraslike.Input((3,))
    assert ops.convert_to_tensor(kt) is kt
    assert ops.convert_to_tensor(kt, dtype="int32").dtype == "int32"
    assert ops.cast(kt, "float16").dtype == "float16"
    with pytest.raises(ValueError, match="symbolic"):
        ops.convert_to_numpy(kt)
    assert ops.is_tensor(torch.ones(1)) and not ops.is_tensor(np.ones(1))


def test_stop_gradient():
    w = torch.ones(3, requires_grad=True)
    (ops.stop_gradient(w * 2) * w).sum().backward()
    torch.testing.assert_close(w.grad, torch.full((3,), 2.0))


def test_scatter(keras_oracle):
    indices = torch.tensor([[0, 1], [2, 0], [0, 1]])
    values = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(
        ops.scatter(indices, values, (3, 2)), keras_oracle.ops.scatter(indices, values, (3, 2))
    )
    slices = torch.from_numpy(f(2, 4))
    torch.testing.assert_close(
        ops.scatter(torch.tensor([[1], [3]]), slices, (5, 4)),
        keras_oracle.ops.scatter(torch.tensor([[1], [3]]), slices, (5, 4)),
    )


@pytest.mark.parametrize("reduction", [None, "add", "max", "min", "mul"])
def test_scatter_update(keras_oracle, reduction):
    inputs = torch.from_numpy(f(4, 3))
    indices = torch.tensor([[0, 1], [2, 2], [0, 1]]) if reduction else torch.tensor([[0, 1], [2, 2]])
    updates = torch.from_numpy(f(indices.shape[0]))
    torch.testing.assert_close(
        ops.scatter_update(inputs, indices, updates, reduction=reduction),
        keras_oracle.ops.scatter_update(inputs, indices, updates, reduction=reduction),
    )
    rows = torch.from_numpy(f(2, 3))
    torch.testing.assert_close(
        ops.scatter_update(inputs, torch.tensor([[3], [1]]), rows, reduction=reduction),
        keras_oracle.ops.scatter_update(inputs, torch.tensor([[3], [1]]), rows, reduction=reduction),
    )


def test_slice_and_update(keras_oracle):
    x = torch.from_numpy(f(4, 5, 6))
    for start in ((1, 0, 2), torch.tensor([1, 0, 2])):
        torch.testing.assert_close(ops.slice(x, start, (2, 5, 3)), keras_oracle.ops.slice(x, start, (2, 5, 3)))
        upd = torch.from_numpy(f(2, 3, 3))
        torch.testing.assert_close(
            ops.slice_update(x, start, upd), keras_oracle.ops.slice_update(x, start, upd)
        )
    inp = keraslike.Input((5, 6))
    out = ops.slice(inp, (0, 1, 2), (2, 3, 4))
    assert out.shape == (2, 3, 4)
    torch.testing.assert_close(keraslike.Model(inp, out)(x), x[0:2, 1:4, 2:6])


def test_control_flow(keras_oracle):
    x = torch.tensor(3.0)
    assert ops.cond(x > 2, lambda: x * 2, lambda: x) == 6
    assert ops.cond(False, lambda: 1, lambda: 2) == 2
    i, s = ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0))
    ki, ks = keras_oracle.ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0))
    assert int(i) == int(ki) and int(s) == int(ks)
    assert int(ops.while_loop(lambda v: v < 100, lambda v: v * 2, 1, maximum_iterations=3)) == 8
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 10) == 16
    assert ops.switch(1, [lambda a: a + 1, lambda a: a * 10], 3) == 30
    assert ops.switch(torch.tensor(7), [lambda a: a + 1, lambda a: a * 10], 3) == 30


def test_cond_under_compile():
    def fn(x):
        return ops.cond(x.sum() > 0, lambda: x * 2, lambda: x - 1)

    compiled = torch.compile(fn, fullgraph=True, backend="eager")
    x = torch.ones(3)
    torch.testing.assert_close(compiled(x), x * 2)
    torch.testing.assert_close(compiled(-x), -x - 1)


def test_cond_and_loops_in_graph():
    class Gate(keraslike.layers.Layer):
        def call(self, x):
            return ops.cond(ops.all(ops.greater(x, 0)), lambda: x * 2, lambda: -x)

    x = keraslike.Input((3,))
    gated = keraslike.Model(x, Gate()(x))
    positive = torch.from_numpy(pos(2, 3))
    torch.testing.assert_close(gated(positive), positive * 2)
    torch.testing.assert_close(gated(-positive), positive)
    z = ops.fori_loop(0, 3, lambda i, v: v * 2, x)
    model = keraslike.Model(x, z)
    data = torch.from_numpy(f(2, 3))
    torch.testing.assert_close(model(data), data * 8)


def test_maps_and_scan(keras_oracle):
    x = torch.from_numpy(f(4, 3))
    torch.testing.assert_close(
        ops.vectorized_map(lambda r: r.sum() * r, x), keras_oracle.ops.vectorized_map(lambda r: r.sum() * r, x)
    )
    torch.testing.assert_close(ops.map(lambda r: r * 2, x), keras_oracle.ops.map(lambda r: r * 2, x))
    carry, ys = ops.scan(lambda c, r: (c + r, c * r), torch.zeros(3), x)
    kc, kys = keras_oracle.ops.scan(lambda c, r: (c + r, c * r), torch.zeros(3), x)
    torch.testing.assert_close(carry, kc)
    torch.testing.assert_close(ys, kys)
    carry, ys = ops.scan(lambda c, r: (c + r, c), torch.zeros(3), x, reverse=True)
    kc, kys = keras_oracle.ops.scan(lambda c, r: (c + r, c), torch.zeros(3), x, reverse=True)
    torch.testing.assert_close(ys, kys)
    inp = keraslike.Input((3,))
    out = ops.vectorized_map(lambda r: r * r.sum(), inp)
    torch.testing.assert_close(keraslike.Model(inp, out)(x), x * x.sum(1, keepdim=True))
