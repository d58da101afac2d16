"""AWQ calibration: parity with Keras 3.15 on a small Embedding + two Dense/EinsumDense blocks."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike.quantizers import AWQConfig
from keraslike.quantizers.awq import AWQ, awq_search_optimal_scales
from tests.quantizers.calibration_models import (
    SEQ,
    build_model,
    quantized_layers,
    quantized_pair,
    tokens,
)

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("options", [{}, {"group_size": -1}, {"num_grid_points": 5}],
                         ids=["groups", "per_channel", "coarse_grid"])
def test_awq_matches_keras(options):
    k_model, ours = quantized_pair(keras, keraslike, "awq", **options)
    k_layers, our_layers = quantized_layers(k_model, "awq"), quantized_layers(ours, "awq")
    assert len(k_layers) == len(our_layers) == 8
    for k_layer, layer in zip(k_layers, our_layers):
        assert layer.is_awq_calibrated and k_layer.is_awq_calibrated
        assert layer.dtype_policy.name == k_layer.dtype_policy.name
        k_weights, weights = k_layer.get_weights(), layer.get_weights()
        assert [(w.shape, w.dtype) for w in k_weights] == [(w.shape, w.dtype) for w in weights]
        for k_w, w in zip(k_weights, weights):
            np.testing.assert_allclose(w, k_w, rtol=1e-5, atol=1e-6, err_msg=layer.name)
    x = np.stack([t[0] for t in tokens()[:3]])
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), k_model.predict(x, verbose=0), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("kind, options", [
    ("dense", {"group_size": 8}),
    ("dense", {"group_size": -1, "num_grid_points": 7}),
    ("qkv", {"group_size": 4}),
    ("out", {"group_size": 8}),
])
def test_single_layer_matches_keras(kind, options):
    from keras.src.quantizers.awq import AWQ as KerasAWQ

    def make(lib):
        if kind == "dense":
            layer = lib.layers.Dense(12)
            layer.build((None, 16))
        elif kind == "qkv":
            layer = lib.layers.EinsumDense("btd,dhk->bthk", (None, 2, 6))
            layer.build((None, SEQ, 16))
        else:
            layer = lib.layers.EinsumDense("bthk,hkd->btd", (None, 12))
            layer.build((None, SEQ, 2, 8))
        return layer

    k_layer, layer = make(keras), make(keraslike)
    layer.set_weights(k_layer.get_weights())
    k_config = keras.quantizers.AWQConfig(None, None, **options)
    config = AWQConfig(None, None, **options)
    k_layer.quantize("awq", config=k_config)
    layer.quantize("awq", config=config)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in k_layer.get_weights()]
    k_state, state = KerasAWQ(k_layer, k_config), AWQ(layer, config)
    x = np.random.default_rng(3).standard_normal((40, state.rows)).astype("float32")
    x[:, 1] *= 30.0  # a salient channel
    k_state.update_activation_magnitudes(x)
    state.update_activation_magnitudes(torch.as_tensor(x))
    k_state.quantize_layer()
    state.quantize_layer()
    for k_w, w in zip(k_layer.get_weights(), layer.get_weights()):
        np.testing.assert_allclose(w, k_w, rtol=1e-6, atol=1e-6)
    inputs = np.random.default_rng(4).standard_normal((2,) + tuple(
        {"dense": (16,), "qkv": (SEQ, 16), "out": (SEQ, 2, 8)}[kind])).astype("float32")
    np.testing.assert_allclose(layer(inputs).detach().numpy(),
                               k_layer(inputs).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_scale_search_protects_the_salient_channel():
    rng = np.random.default_rng(5)
    weights = torch.as_tensor(rng.standard_normal((6, 8)), dtype=torch.float32)
    magnitudes = torch.ones(8)
    magnitudes[2] = 50.0
    scales = awq_search_optimal_scales(weights, magnitudes, num_grid_points=10, group_size=-1)
    assert scales.shape == (8,)
    assert float(scales[2]) > float(scales[0])  # the loud channel's weights are expanded
    flat = awq_search_optimal_scales(weights, torch.ones(8), num_grid_points=10)
    torch.testing.assert_close(flat, torch.ones(8))  # ratio 0 (the first of equals) wins


def test_saved_files_load_in_keras(tmp_path):
    k_model, ours = quantized_pair(keras, keraslike, "awq", from_model=True)
    x = np.stack([t[0] for t in tokens()[:2]])
    expected = ours.predict(x, verbose=0)
    path = str(tmp_path / "awq.keras")
    ours.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict(x, verbose=0), expected,
                               rtol=1e-5, atol=1e-5)
    mine = keraslike.saving.load_model(path)
    layer = mine.layers[2].layers[0]
    assert layer.dtype_policy.name == "awq/4/8_from_float32" and layer.is_awq_calibrated
    np.testing.assert_allclose(mine.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    weights = str(tmp_path / "awq.weights.h5")
    ours.save_weights(weights)
    k_model.load_weights(weights)
    np.testing.assert_allclose(k_model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    native = str(tmp_path / "awq.safetensors")
    ours.save(native)
    np.testing.assert_allclose(keraslike.saving.load_model(native).predict(x, verbose=0),
                               expected, rtol=1e-6, atol=1e-6)


def test_bad_input():
    model, structure = build_model(keraslike)
    with pytest.raises(ValueError, match="a valid quantization structure"):
        model.quantize("awq", config=AWQConfig(dataset=["a"], tokenizer=lambda s: s))
    model, structure = build_model(keraslike)
    with pytest.raises(ValueError, match="you must pass a `AWQConfig`"):
        model.quantize("awq")
    with pytest.raises(ValueError, match="AWQ only supports 4-bit"):
        AWQConfig(None, None, weight_bits=8)
    with pytest.raises(ValueError, match="Contradictory arguments"):
        model.quantize("gptq", config=AWQConfig(None, None))
    with pytest.raises(ValueError, match="requires a dataset and tokenizer"):
        model.quantize("awq", config=AWQConfig(None, None, quantization_layer_structure=structure))
    with pytest.raises(ValueError, match="AWQ"):
        keraslike.layers.Dense(3, dtype="awq/8/8_from_float32")
    model, structure = build_model(keraslike)
    with pytest.raises(ValueError, match="No sequential blocks found in the structure"):
        model.quantize("awq", config=AWQConfig(
            [np.arange(8)], lambda s: s, sequence_length=4, num_samples=1,
            quantization_layer_structure={"pre_block_layers": [], "sequential_blocks": []}))


def test_residual_blocks_match_keras():
    k_model, ours = quantized_pair(keras, keraslike, "awq", residual=True)
    k_layers, our_layers = quantized_layers(k_model, "awq"), quantized_layers(ours, "awq")
    assert len(k_layers) == len(our_layers) == 8
    for k_layer, layer in zip(k_layers, our_layers):
        for k_w, w in zip(k_layer.get_weights(), layer.get_weights()):
            np.testing.assert_allclose(w, k_w, rtol=1e-5, atol=1e-6, err_msg=layer.name)
    x = np.stack([t[0] for t in tokens()[:3]])
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), k_model.predict(x, verbose=0), rtol=1e-4, atol=1e-4
    )
