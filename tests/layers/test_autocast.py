"""Keras's input autocast: a layer casts floating inputs to its compute dtype when called
(`dtype="float16"` layers take float32 tensors), eagerly, symbolically and inside a Model's
execution plan; `autocast=False` and graph models pass inputs on as they are."""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")

X = np.random.default_rng(0).random((2, 3, 4)).astype("float32")

CASES = [
    ("Dense", {"units": 3, "dtype": "float16"}, 1),
    ("Dense", {"units": 3, "dtype": "bfloat16"}, 1),
    ("Dense", {"units": 3, "dtype": "float64"}, 1),
    ("Conv1D", {"filters": 3, "kernel_size": 2, "dtype": "float16"}, 1),
    ("LayerNormalization", {"dtype": "float16"}, 1),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "dtype": "float16"}, 2),
    ("Add", {"dtype": "float16"}, "list"),
]


def _call(lib, name, kwargs, arity, x):
    layer = getattr(lib.layers, name)(**kwargs)
    if arity == "list":
        return layer, layer([x, x])
    return layer, layer(*([x] * arity))


@pytest.mark.parametrize("name,kwargs,arity", CASES, ids=[f"{c[0]}-{c[1]['dtype']}" for c in CASES])
def test_eager_and_symbolic_calls_cast_like_keras(name, kwargs, arity):
    theirs, expected = _call(keras, name, kwargs, arity, keras.ops.convert_to_tensor(X))
    ours, result = _call(keraslike, name, kwargs, arity, torch.from_numpy(X))
    assert str(result.dtype).replace("torch.", "") == keras.backend.standardize_dtype(expected.dtype)
    if theirs.get_weights():
        ours.set_weights([keras.ops.convert_to_numpy(keras.ops.cast(w, "float32")) for w in theirs.weights])
        x = torch.from_numpy(X)
        result = ours([x, x]) if arity == "list" else ours(*([x] * arity))
        np.testing.assert_allclose(result.float().detach().numpy(),
                                   keras.ops.convert_to_numpy(keras.ops.cast(expected, "float32")),
                                   rtol=2e-2, atol=2e-2)
    shape = X.shape[1:]
    symbolic = [keraslike.Input(shape)] * (2 if arity == "list" else arity)
    out = _call(keraslike, name, kwargs, arity, symbolic[0])[1]
    assert out.dtype == keras.backend.standardize_dtype(expected.dtype)


def test_a_model_casts_between_layers_of_different_dtypes():
    inputs = keraslike.Input((4,))
    half = keraslike.layers.Dense(3, dtype="float16")(inputs)
    outputs = keraslike.layers.Dense(2, dtype="float32")(half)
    model = keraslike.Model(inputs, outputs)
    assert (half.dtype, outputs.dtype) == ("float16", "float32")
    y = model(torch.rand(5, 4))
    assert y.dtype == torch.float32 and y.shape == (5, 2)
    assert model.predict(np.random.rand(5, 4).astype("float32"), verbose=0).dtype == np.float32


def test_changing_a_layers_policy_after_the_model_was_built_reaches_its_plan():
    inputs = keraslike.Input((4,))
    dense = keraslike.layers.Dense(3)
    model = keraslike.Model(inputs, dense(inputs))
    x = torch.rand(2, 4)
    assert model(x).dtype == torch.float32
    dense.to(torch.float64)
    dense.dtype_policy = "float64"
    assert model(x).dtype == torch.float64  # the plan's steps were rebuilt with the cast


def test_autocast_false_passes_inputs_on():
    layer = keraslike.layers.Activation("relu", dtype="float16", autocast=False)
    assert layer(torch.ones(2, dtype=torch.float32)).dtype == torch.float32
    layer.autocast = True
    assert layer(torch.ones(2, dtype=torch.float32)).dtype == torch.float16


def test_integer_inputs_are_not_cast():
    layer = keraslike.layers.Embedding(5, 2, dtype="float16")
    assert layer(torch.tensor([[1, 2]])).dtype == torch.float16
    lam = keraslike.layers.Lambda(lambda t: t, dtype="float16")
    assert lam(torch.tensor([1, 2])).dtype == torch.int64


def test_a_torch_dtype_conversion_sets_the_dtype_the_model_computes_in():
    """PyTorch's `model.double()` / `.half()` convert the weights; calls then compute in that
    dtype (inputs cast to it), parameter-free layers included, and `.float()` goes back."""
    inputs = keraslike.Input((4,))
    x = keraslike.layers.Dense(3)(inputs)
    model = keraslike.Model(inputs, keraslike.layers.Softmax()(x))
    data = torch.rand(2, 4)
    model.double()
    assert model(data).dtype == torch.float64
    model.to("cpu")  # a device move keeps the converted dtype
    assert model(data.half()).dtype == torch.float64
    model.float()
    assert model(data.double()).dtype == torch.float32
    softmax = keraslike.layers.Softmax().double()
    x64 = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(softmax, (x64,))


@pytest.mark.slow
def test_casting_steps_compile_without_graph_breaks():
    inputs = keraslike.Input((4,))
    outputs = keraslike.layers.Dense(2)(keraslike.layers.Dense(3, dtype="float16")(inputs))
    model = keraslike.Model(inputs, outputs)
    x = torch.rand(5, 4)
    compiled = torch.compile(model, fullgraph=True)
    torch.testing.assert_close(compiled(x), model(x))
