"""Layers and models under a mixed precision policy: output dtypes (eager, symbolic, in a model,
`predict`) and values as Keras 3's, a float32 layer inside a mixed model, `fit` trajectories."""

import numpy as np
import pytest
import torch

import keraslike

X2 = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
X4 = np.random.default_rng(1).standard_normal((2, 5, 5, 3)).astype("float32")

LAYERS = [
    ("Dense", lambda lib: lib.layers.Dense(4), X2),
    ("Conv2D", lambda lib: lib.layers.Conv2D(2, 3), X4),
    ("LayerNormalization", lambda lib: lib.layers.LayerNormalization(), X2),
    ("BatchNormalization", lambda lib: lib.layers.BatchNormalization(), X2),
    ("softmax", lambda lib: lib.layers.Activation("softmax"), X2),
    ("Embedding", lambda lib: lib.layers.Embedding(7, 3), np.array([[1, 2, 6]])),
]


def _dtype(x):
    return str(x.dtype).replace("torch.", "")


@pytest.mark.parametrize("name,make,x", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_outputs_are_keras_dtypes_and_values(keras_oracle, mixed_policy, name, make, x):
    keras = keras_oracle
    theirs, ours = make(keras), make(keraslike)
    expected = theirs(x)
    ours.build(x.shape)
    ours.set_weights([keras.ops.convert_to_numpy(w) for w in theirs.weights])
    compute = mixed_policy.split("_")[1]
    for got in (ours(x), ours(torch.as_tensor(x))):  # numpy and tensor eager calls
        assert _dtype(got) == keras.backend.standardize_dtype(expected.dtype) == compute
        np.testing.assert_allclose(got.detach().float().numpy(),
                                   keras.ops.convert_to_numpy(expected).astype("float32"),
                                   rtol=2e-2, atol=2e-2)
    assert all(w.dtype == torch.float32 for w in ours.weights)  # weights stay float32
    for lib, layer in ((keras, make(keras)), (keraslike, make(keraslike))):
        inputs = lib.Input(x.shape[1:], dtype="int32" if x.dtype.kind == "i" else "float32")
        outputs = layer(inputs)
        assert outputs.dtype == compute, lib.__name__
        model = lib.Model(inputs, outputs)
        assert _dtype(model(torch.as_tensor(x) if lib is keraslike else x)) == compute
        assert _dtype(model(x, training=True)) == compute
        if compute == "float16":  # numpy has no bfloat16
            assert str(model.predict(x, verbose=0).dtype) == compute


def _model(lib):
    inputs = lib.Input((6,))
    x = lib.layers.Dense(8, activation="relu")(inputs)
    x = lib.layers.LayerNormalization()(x)
    x = lib.layers.BatchNormalization()(x)
    x = lib.layers.Dense(3)(x)
    # Keras's advice for a mixed model: the last layer in float32.
    return lib.Model(inputs, lib.layers.Activation("softmax", dtype="float32")(x))


def test_mixed_model_with_a_float32_head_calls_and_trains_like_keras(keras_oracle, mixed_policy):
    keras = keras_oracle
    keras.utils.set_random_seed(0)  # fixed weights: half-precision trajectories then repeat
    theirs, ours = _model(keras), _model(keraslike)
    ours.set_weights(theirs.get_weights())
    assert theirs.outputs[0].dtype == ours.outputs[0].dtype == "float32"
    head = ours.layers[-1](torch.as_tensor(X2[:, :3]).to(getattr(torch, mixed_policy.split("_")[1])))
    assert head.dtype == torch.float32  # eagerly too: a float32 layer computes in float32
    expected = keras.ops.convert_to_numpy(theirs(X2))
    got = ours(torch.as_tensor(X2))
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=2e-2, atol=2e-2)
    predicted = ours.predict(X2, verbose=0)  # a plan run under autocast, no model call
    assert predicted.dtype == theirs.predict(X2, verbose=0).dtype == np.float32
    np.testing.assert_allclose(predicted, expected, rtol=2e-2, atol=2e-2)
    y = np.random.default_rng(2).integers(0, 3, (4,))
    losses = []
    for lib, model in ((keras, theirs), (keraslike, ours)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        history = model.fit(X2, y, batch_size=2, epochs=3, verbose=0, shuffle=False)
        losses.append(history.history["loss"])
    assert losses[1][-1] < losses[1][0]
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-2)
    assert all(w.dtype == torch.float32 for w in ours.weights)


def test_float_layers_keep_a_users_own_autocast():
    # A float32 model under the user's own `torch.autocast` is the user's choice: unchanged.
    keraslike.mixed_precision.set_global_policy("mixed_bfloat16")
    keraslike.layers.Dense(2)  # a mixed layer exists in the process from now on
    keraslike.mixed_precision.set_global_policy("float32")
    layer = keraslike.layers.Dense(3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert layer(torch.ones(2, 4)).dtype == torch.bfloat16
    assert layer(torch.ones(2, 4)).dtype == torch.float32


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_layers_and_fit_on_cuda(name):
    keraslike.mixed_precision.set_global_policy(name)
    try:
        compute = getattr(torch, name.split("_")[1])
        x = torch.randn(8, 6, device="cuda")
        for layer in (keraslike.layers.Dense(4), keraslike.layers.Activation("softmax"),
                      keraslike.layers.BatchNormalization(), keraslike.layers.LayerNormalization()):
            layer.build(tuple(x.shape))
            layer.to("cuda")
            assert layer(x).dtype == compute, type(layer).__name__
        model = _model(keraslike)
        model.to("cuda")
        assert model(x).dtype == torch.float32  # the float32 head
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        y = np.random.default_rng(3).integers(0, 3, (64,))
        data = np.random.default_rng(4).standard_normal((64, 6)).astype("float32")
        losses = model.fit(data, y, batch_size=16, epochs=3, verbose=0).history["loss"]
        assert np.isfinite(losses).all() and losses[-1] < losses[0]
    finally:
        keraslike.mixed_precision.set_global_policy("float32")


def test_float_graphs_keep_direct_calls_after_mixed_layers_exist(keras_oracle, mixed_policy):
    mixed = _model(keraslike)  # its float32 head takes half-precision inputs: guarded
    head = mixed.layers[-1]
    assert head.runtime_callable != head.call
    keraslike.mixed_precision.set_global_policy("float32")
    inputs = keraslike.Input((6,))
    dense = keraslike.layers.Dense(3)
    keraslike.Model(inputs, dense(inputs))
    assert dense.runtime_callable == dense.call  # a float graph: direct (fusable) calls
