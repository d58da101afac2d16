"""LoRA on Dense, EinsumDense, Embedding and the convolutions: parity with Keras 3."""

import numpy as np
import pytest
import torch

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _numpy(keras, value):
    return keras.ops.convert_to_numpy(value)


CASES = [
    ("Dense", {"units": 5, "lora_rank": 2}, (4, 3), float),
    ("Embedding", {"input_dim": 10, "output_dim": 4, "lora_rank": 2}, (4, 6), int),
    (
        "EinsumDense",
        {"equation": "abc,cde->abde", "output_shape": (None, 3, 4), "bias_axes": "de", "lora_rank": 2},
        (2, 5, 6),
        float,
    ),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 4, "lora_rank": 3}, (2, 6), float),
    ("EinsumDense", {"equation": "...b,bc->...c", "output_shape": 4, "lora_rank": 2}, (2, 3, 6), float),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "lora_rank": 2}, (2, 7, 3), float),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2, "lora_rank": 2}, (2, 7, 7, 3), float),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2, "lora_rank": 2}, (2, 7, 7, 4), float),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "lora_rank": 1, "data_format": "channels_first"}, (1, 3, 4, 4, 4), float),
]


def _kernel(layer):
    return layer.embeddings if hasattr(layer, "input_dim") and not hasattr(layer, "units") else layer.kernel


@pytest.mark.parametrize("cls,kwargs,shape,kind", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_layer_matches_keras(keras, cls, kwargs, shape, kind):
    rng = np.random.default_rng(0)
    theirs = getattr(keras.layers, cls)(name="adapted", **kwargs)
    ours = getattr(keraslike.layers, cls)(name="adapted", **kwargs)
    theirs.build(shape)
    ours.build(shape)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.path for w in ours.trainable_weights] == [w.path for w in theirs.trainable_weights]
    assert [w.path for w in ours.non_trainable_weights] == [w.path for w in theirs.non_trainable_weights]
    assert ours.get_config() == theirs.get_config()
    # Non-zero adapters, so the LoRA path counts.
    weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = rng.integers(0, 10, shape) if kind is int else rng.standard_normal(shape).astype("float32")
    expected = _numpy(keras, theirs(x))
    got = ours(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        _kernel(ours).detach().numpy(), _numpy(keras, _kernel(theirs)), rtol=1e-6, atol=1e-6
    )


def test_enable_lora_with_alpha_merges_scaled_update():
    layer = keraslike.layers.Dense(8)
    layer.build((None, 4))
    layer.enable_lora(2, lora_alpha=3.0)
    assert (layer.lora_rank, layer.lora_alpha) == (2, 3.0)
    with torch.no_grad():
        layer.lora_kernel_b.normal_()
    a, b = layer.lora_kernel_a.detach(), layer.lora_kernel_b.detach()
    expected = layer.weight.detach().T + 1.5 * a @ b
    torch.testing.assert_close(layer.kernel.detach(), expected)
    x = torch.randn(3, 4)
    torch.testing.assert_close(layer(x), x @ expected + layer.bias, rtol=1e-5, atol=1e-5)


def test_counts_dtypes_and_freezing():
    layer = keraslike.layers.Dense(16)
    layer.build((None, 8))
    layer.enable_lora(4)
    assert len(layer.trainable_weights) == 3 and len(layer.non_trainable_weights) == 1
    assert layer.lora_kernel_a.dtype == torch.float32 and not layer.weight.requires_grad
    layer.trainable = False
    layer.trainable = True  # unfreezing the layer keeps the base kernel frozen, as in Keras
    assert not layer.weight.requires_grad and layer.lora_kernel_a.requires_grad
    assert len(layer.trainable_weights) == 3


def test_errors_match_keras_types():
    layer = keraslike.layers.Dense(4, kernel_constraint="max_norm")
    layer.build((None, 3))
    with pytest.raises(ValueError, match="incompatible with kernel constraints"):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match="isn't yet built"):
        keraslike.layers.Dense(4).enable_lora(2)
    layer = keraslike.layers.Dense(4, lora_rank=2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    emb = keraslike.layers.Embedding(5, 2, embeddings_constraint="max_norm")
    emb.build(None)
    with pytest.raises(ValueError, match="embeddings_constraint"):
        emb.enable_lora(2)


def _lora_mlp(lib):
    inputs = lib.Input(shape=(8,))
    x = lib.layers.Dense(16, activation="relu", name="d0")(inputs)
    x = lib.layers.Dense(3, name="d1")(x)
    model = lib.Model(inputs, x)
    for layer in model.layers[1:]:
        layer.enable_lora(2)
    return model


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_fine_tuning_matches_keras_two_epochs(keras, optimizer):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 8)).astype("float32")
    y = rng.integers(0, 3, 96)
    theirs, ours = _lora_mlp(keras), _lora_mlp(keraslike)
    start = [rng.standard_normal(w.shape).astype("float32") * 0.3 for w in theirs.get_weights()]
    theirs.set_weights(start)
    ours.set_weights(start)
    histories = []
    for lib, model in ((keras, theirs), (keraslike, ours)):
        model.compile(
            optimizer=getattr(lib.optimizers, optimizer)(learning_rate=0.05),
            loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        histories.append(model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0))
    np.testing.assert_allclose(
        histories[1].history["loss"], histories[0].history["loss"], rtol=1e-4, atol=1e-6
    )
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    after = ours.get_weights()
    # Only the adapters (and biases) moved: the base kernels are where they started.
    for i, name in enumerate(w.path for w in ours.weights):
        if name.endswith("/kernel"):
            np.testing.assert_array_equal(after[i], start[i])
        elif "lora" in name:
            assert np.abs(after[i] - start[i]).max() > 0


def _trained_lora_model(lib):
    model = lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(16, lora_rank=4)])
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    return model, rng.standard_normal((5, 8)).astype("float32")


def test_native_file_keeps_adapters(tmp_path):
    model, x = _trained_lora_model(keraslike)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = keraslike.saving.load_model(path)
    assert loaded.layers[0].lora_enabled
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("source,target", [("keraslike", "keras"), ("keras", "keraslike")])
def test_keras_file_moves_both_ways(keras, tmp_path, source, target):
    libs = {"keras": keras, "keraslike": keraslike}
    model, x = _trained_lora_model(libs[source])
    path = str(tmp_path / "lora.keras")
    model.save(path)
    loaded = libs[target].saving.load_model(path)
    assert loaded.layers[0].lora_enabled
    np.testing.assert_allclose(
        np.asarray(loaded.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)),
        rtol=1e-5, atol=1e-5,
    )
    # Keras stores the merged kernel and zeroes the adapters when loading.
    np.testing.assert_array_equal(_numpy(keras, loaded.layers[0].lora_kernel_b), 0)


def test_weights_h5_into_plain_model_and_back(keras, tmp_path):
    model, x = _trained_lora_model(keraslike)
    path = str(tmp_path / "lora.weights.h5")
    model.save_weights(path)
    for lib in (keraslike, keras):
        plain = lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(16)])
        plain.load_weights(path)
        np.testing.assert_allclose(
            np.asarray(plain.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5
        )
    plain.save_weights(path)  # a Keras file of the plain model, loaded into the LoRA model
    model.load_weights(path)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), np.asarray(plain.predict(x, verbose=0)), rtol=1e-5, atol=1e-5
    )


def test_lora_layer_compiles_without_graph_breaks():
    layer = keraslike.layers.Conv2D(4, 3, lora_rank=2)
    layer.build((None, 6, 6, 3))
    with torch.no_grad():
        layer.lora_kernel_b.normal_()
    x = torch.randn(2, 6, 6, 3)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), layer(x))
