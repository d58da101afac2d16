"""GPTQ calibration: parity with Keras 3.15 on a small Embedding + two Dense/EinsumDense blocks."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike.quantizers import GPTQConfig
from keraslike.quantizers.gptq import GPTQ, compute_quantization_parameters

from tests.quantizers.calibration_models import (
    SEQ,
    build_model,
    quantized_layers,
    quantized_pair,
    tokens,
)

keras = pytest.importorskip("keras")

def _pair(from_model=False, **options):
    return quantized_pair(keras, keraslike, "gptq", from_model, **options)


def _quantized_layers(model):
    return quantized_layers(model, "gptq")


@pytest.mark.parametrize("options", [
    {},
    {"group_size": -1, "symmetric": True},
    {"activation_order": True},
    {"weight_bits": 8, "per_channel": False},
    {"weight_bits": 3, "group_size": 4, "activation_order": True, "symmetric": True},
], ids=["default", "per_channel_sym", "act_order", "8bit_per_tensor", "3bit_groups_act_order"])
def test_gptq_matches_keras(options):
    k_model, ours = _pair(**options)
    k_layers, our_layers = _quantized_layers(k_model), _quantized_layers(ours)
    assert len(k_layers) == len(our_layers) == 8
    for k_layer, layer in zip(k_layers, our_layers):
        assert layer.is_gptq_calibrated and k_layer.is_gptq_calibrated
        assert layer.dtype_policy.name == k_layer.dtype_policy.name
        k_weights, weights = k_layer.get_weights(), layer.get_weights()
        assert [w.shape for w in k_weights] == [w.shape for w in weights]
        assert [w.dtype for w in k_weights] == [w.dtype for w in weights]
        for k_w, w in zip(k_weights, weights):
            np.testing.assert_allclose(w, k_w, rtol=1e-5, atol=1e-6, err_msg=layer.name)
    x = np.stack([t[0] for t in tokens()[:3]])
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), k_model.predict(x, verbose=0), rtol=1e-4, atol=1e-4
    )


def test_hessian_is_running_mean_of_gram():
    layer = keraslike.layers.Dense(4)
    layer.build((None, 6))
    layer.quantize("gptq", config=GPTQConfig(None, None, group_size=-1))
    state = GPTQ(layer, GPTQConfig(None, None))
    rng = np.random.default_rng(1)
    a = torch.as_tensor(rng.standard_normal((5, 6)), dtype=torch.float32)
    b = torch.as_tensor(rng.standard_normal((2, 3, 6)), dtype=torch.float32)
    state.update_hessian_with_batch(a)
    state.update_hessian_with_batch(b)
    x = torch.cat([a, b.reshape(-1, 6)])
    torch.testing.assert_close(state.hessian, 2 * x.t() @ x / 11, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="do not match input features"):
        state.update_hessian_with_batch(torch.ones(3, 5))


def test_quantization_parameters_match_keras():
    from keras.src.quantizers.quantizers import compute_quantization_parameters as k_params

    x = torch.as_tensor(np.random.default_rng(2).standard_normal((5, 12)), dtype=torch.float32)
    for kwargs in ({"bits": 4}, {"bits": 4, "symmetric": True, "per_channel": True},
                   {"bits": 3, "per_channel": True, "group_size": 5}):
        scale, zero, maxq = compute_quantization_parameters(x, **kwargs)
        k_scale, k_zero, k_maxq = k_params(x, **kwargs)
        torch.testing.assert_close(scale, torch.as_tensor(np.asarray(k_scale)))
        torch.testing.assert_close(zero, torch.as_tensor(np.asarray(k_zero)))
        assert float(maxq) == float(k_maxq)


def test_saved_files_load_in_keras(tmp_path):
    k_model, ours = _pair(from_model=True)
    x = np.stack([t[0] for t in tokens()[:2]])
    expected = ours.predict(x, verbose=0)
    path = str(tmp_path / "gptq.keras")
    ours.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict(x, verbose=0), expected,
                               rtol=1e-5, atol=1e-5)
    mine = keraslike.saving.load_model(path)
    assert mine.layers[2].layers[0].dtype_policy.name == "gptq/4/8_from_float32"
    np.testing.assert_allclose(mine.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    weights = str(tmp_path / "gptq.weights.h5")
    ours.save_weights(weights)
    k_model.load_weights(weights)
    np.testing.assert_allclose(k_model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    fresh = keraslike.saving.load_model(path)  # get_weights/set_weights speak Keras's order
    fresh.set_weights([w * 0 for w in fresh.get_weights()])
    fresh.set_weights(k_model.get_weights())
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    native = str(tmp_path / "gptq.safetensors")
    ours.save(native)
    np.testing.assert_allclose(keraslike.saving.load_model(native).predict(x, verbose=0),
                               expected, rtol=1e-6, atol=1e-6)


def test_keras_written_file_without_zero_points_is_refused(tmp_path):
    k_model, _ = _pair(from_model=True)
    path = str(tmp_path / "keras_gptq.keras")
    k_model.save(path)  # Keras 3.15 leaves `kernel_zero` out of GPTQ layers (and cannot reload)
    with pytest.raises(ValueError, match="expected 5 variables, but received 4 variables"):
        keraslike.saving.load_model(path)


def test_bad_input():
    model, structure = build_model(keraslike)
    with pytest.raises(ValueError, match="a valid quantization structure"):
        model.quantize("gptq", config=GPTQConfig(dataset=["a"], tokenizer=lambda s: s))
    assert all(layer.quantization_mode is None for layer in model.layers)  # left as it was
    with pytest.raises(TypeError, match="must be an iterable"):
        model.quantize("gptq", config=GPTQConfig(dataset="text", tokenizer=lambda s: s,
                                                 quantization_layer_structure=structure))
    with pytest.raises(ValueError, match="Provided dataset is empty"):
        model.quantize("gptq", config=GPTQConfig(dataset=[], tokenizer=lambda s: s,
                                                 quantization_layer_structure=structure))
    with pytest.raises(ValueError, match="must be an instance of `QuantizationConfig`"):
        model.quantize("gptq", config={"weight_bits": 4})
    with pytest.raises(ValueError, match="you must pass a `GPTQConfig`"):
        model.quantize("gptq")
    with pytest.raises(ValueError, match="Unsupported weight_bits 5"):
        GPTQConfig(None, None, weight_bits=5)
    with pytest.raises(ValueError, match="requires a dataset and a tokenizer"):
        model.quantize("gptq", config=GPTQConfig(None, None, quantization_layer_structure=structure))
    with pytest.raises(ValueError, match="Invalid weight_bits"):
        keraslike.layers.Dense(3, dtype="gptq/5/8_from_float32")
    unbuilt = keraslike.Sequential([keraslike.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        unbuilt.quantize("gptq", config=GPTQConfig(["a"], lambda s: s))


def test_filters_skip_layers_and_lora_is_refused():
    model, structure = build_model(keraslike)
    skipped = structure["sequential_blocks"][0].layers[0]
    model.quantize("gptq", filters=lambda layer: layer is not skipped, config=GPTQConfig(
        tokens(), lambda s: s, num_samples=2, sequence_length=SEQ, group_size=8,
        quantization_layer_structure=structure))
    assert skipped.quantization_mode is None
    calibrated = structure["sequential_blocks"][0].layers[3]
    assert calibrated.is_gptq_calibrated and calibrated.kernel.dtype == torch.uint8
    with pytest.raises(NotImplementedError, match="lora is not currently supported with GPTQ"):
        calibrated.enable_lora(2)


@pytest.mark.parametrize("kind, options", [
    ("dense", {"group_size": 8}),
    ("dense", {"group_size": -1, "activation_order": True, "symmetric": True}),
    ("qkv", {"group_size": 4, "weight_bits": 8}),
    ("out", {"group_size": 8, "activation_order": True, "per_channel": False}),
])
def test_single_layer_matches_keras(kind, options):
    from keras.src.quantizers.gptq import GPTQ as KerasGPTQ

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
    k_config = keras.quantizers.GPTQConfig(None, None, **options)
    config = GPTQConfig(None, None, **options)
    k_layer.quantize("gptq", config=k_config)
    layer.quantize("gptq", config=config)
    k_state, state = KerasGPTQ(k_layer, k_config), GPTQ(layer, config)
    assert (state.rows, state.columns) == (k_state.rows, int(k_state.columns))
    x = np.random.default_rng(3).standard_normal((40, state.rows)).astype("float32")
    k_state.update_hessian_with_batch(x)
    state.update_hessian_with_batch(torch.as_tensor(x))
    k_state.quantize_and_correct_layer()
    state.quantize_and_correct_layer()
    for k_w, w in zip(k_layer.get_weights(), layer.get_weights()):
        np.testing.assert_allclose(w, k_w, rtol=1e-6, atol=1e-6)
    inputs = np.random.default_rng(4).standard_normal((2,) + tuple(
        {"dense": (16,), "qkv": (SEQ, 16), "out": (SEQ, 2, 8)}[kind])).astype("float32")
    np.testing.assert_allclose(layer(inputs).detach().numpy(), k_layer(inputs).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_residual_blocks_match_keras():
    k_model, ours = quantized_pair(keras, keraslike, "gptq", residual=True)
    k_layers, our_layers = quantized_layers(k_model, "gptq"), quantized_layers(ours, "gptq")
    assert len(k_layers) == len(our_layers) == 8
    for k_layer, layer in zip(k_layers, our_layers):
        for k_w, w in zip(k_layer.get_weights(), layer.get_weights()):
            np.testing.assert_allclose(w, k_w, rtol=1e-5, atol=1e-6, err_msg=layer.name)
    x = np.stack([t[0] for t in tokens()[:3]])
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), k_model.predict(x, verbose=0), rtol=1e-4, atol=1e-4
    )


@pytest.mark.slow
def test_quantized_model_compiles_fullgraph():
    model, structure = build_model(keraslike)
    model.quantize("gptq", config=GPTQConfig(tokens(), lambda s: s, num_samples=2,
                                             sequence_length=SEQ, group_size=8,
                                             quantization_layer_structure=structure))
    x = torch.as_tensor(np.stack([t[0] for t in tokens()[:2]]))
    expected = model(x)
    torch.testing.assert_close(torch.compile(model, fullgraph=True)(x), expected)


def test_error_feedback_on_the_calibration_inputs_is_keras(keras_oracle):
    """GPTQ's output error on its calibration inputs, and plain rounding's (a zero Hessian),
    equal Keras 3's. (Keras 3.15.1's GPTQ on torch does no better than rounding here, 0.79 vs
    0.75 for this kernel, where textbook GPTQ gets about 0.49; keraslike follows Keras.)"""
    from keras.src.quantizers.gptq import GPTQ as KerasGPTQ

    rng = np.random.default_rng(6)
    mix = rng.standard_normal((32, 32)).astype("float32")
    x = torch.as_tensor(rng.standard_normal((256, 32)).astype("float32") @ mix)  # correlated
    errors = {}
    for library, gptq, to_torch in (
        (keraslike, GPTQ, lambda t: t),
        (keras_oracle, KerasGPTQ, lambda t: torch.as_tensor(keras_oracle.ops.convert_to_numpy(t))),
    ):
        for name, hessian_inputs in (("gptq", x), ("rounding", torch.zeros(1, 32))):
            initializer = library.initializers.GlorotUniform(seed=1)
            layer = library.layers.Dense(16, use_bias=False, kernel_initializer=initializer)
            layer.build((None, 32))
            float_kernel = to_torch(layer.kernel).detach().clone()
            config = library.quantizers.GPTQConfig(None, None, weight_bits=3, group_size=-1)
            layer.quantize("gptq", config=config)
            state = gptq(layer, config)
            state.update_hessian_with_batch(hessian_inputs)  # zeros: Keras-on-torch's Hessian
            state.quantize_and_correct_layer()
            error = ((x @ float_kernel - to_torch(layer(x)).detach()) ** 2).mean()
            errors[library.__name__, name] = float(error)
    for name in ("gptq", "rounding"):
        assert errors["keraslike", name] == pytest.approx(errors["keras", name], rel=1e-5), errors
    assert errors["keraslike", "gptq"] != errors["keraslike", "rounding"]  # the Hessian is used


def test_layers_outside_the_blocks_are_named_and_not_saved(tmp_path):
    model, structure = build_model(keraslike)
    head = keraslike.layers.Dense(3, name="head")
    model = keraslike.Model(model.inputs, head(model.outputs[0]))
    with pytest.warns(UserWarning, match=r"\['head'\].*calibrated none"):
        model.quantize("gptq", config=GPTQConfig(
            tokens(), lambda s: s, num_samples=2, sequence_length=SEQ, group_size=8,
            quantization_layer_structure=structure))
    assert not head.is_gptq_calibrated and head.kernel.dtype == torch.float32
    with pytest.raises(ValueError, match='"head" is in GPTQ mode but was never calibrated'):
        model.save_weights(str(tmp_path / "m.weights.h5"))


def test_a_config_holding_the_structure_still_saves(tmp_path):
    model, structure = build_model(keraslike)
    config = GPTQConfig(tokens(), lambda s: s, num_samples=2, sequence_length=SEQ, group_size=8,
                        quantization_layer_structure=structure)
    assert config.get_config()["quantization_layer_structure"] is None
    model.quantize("gptq", config=config)
    path = str(tmp_path / "m.keras")
    model.save(path)  # Keras 3.15 recurses forever here
    x = np.stack([t[0] for t in tokens()[:2]])
    np.testing.assert_allclose(keraslike.saving.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


def test_mixed_precision_layer_matches_keras():
    from keras.src.quantizers.gptq import GPTQ as KerasGPTQ

    layers = []
    for lib in (keras, keraslike):
        layer = lib.layers.Dense(8, dtype="mixed_bfloat16")
        layer.build((None, 16))
        layers.append(layer)
    k_layer, layer = layers
    layer.set_weights(k_layer.get_weights())
    x = np.random.default_rng(7).standard_normal((32, 16)).astype("float32")
    for lib, target, cls in ((keras, k_layer, KerasGPTQ), (keraslike, layer, GPTQ)):
        config = lib.quantizers.GPTQConfig(None, None, group_size=8)
        target.quantize("gptq", config=config)
        state = cls(target, config)
        state.update_hessian_with_batch(x if lib is keras else torch.as_tensor(x))
        state.quantize_and_correct_layer()
    assert layer.dtype_policy.name == "gptq/4/8_from_mixed_bfloat16"
    for k_w, w in zip(k_layer.get_weights(), layer.get_weights()):
        np.testing.assert_allclose(w, k_w, rtol=1e-6, atol=1e-6)
    k_y, y = k_layer(x), layer(x)
    assert y.dtype == k_y.dtype == torch.bfloat16
    np.testing.assert_allclose(y.float().detach().numpy(), k_y.float().detach().numpy(),
                               rtol=1e-2, atol=2e-2)


@pytest.mark.parametrize("strategy", ["strided", "linspace", "random"])
@pytest.mark.parametrize("kind", ["strings", "tokens", "short"])
def test_calibration_windows_match_keras(strategy, kind):
    from keras.src.quantizers.gptq_core import get_dataloader as keras_dataloader

    from keraslike.quantizers.gptq_core import get_dataloader

    def tokenize(text):
        return np.array([ord(c) % 50 for c in text])

    tokenize.tokenize = tokenize
    dataset = {
        "strings": ["the quick brown fox", "jumps over", "the lazy dog" * 3],
        "tokens": [np.arange(30).reshape(1, 30), np.arange(7)],
        "short": [np.arange(5)],  # repeated until long enough
    }[kind]
    options = dict(num_samples=6, strategy=strategy, seed=3, eos_id=1 if kind == "strings" else None)
    ours = get_dataloader(tokenize, 8, dataset, **options)
    assert ours.shape == (6, 1, 8) and ours.dtype == np.int32
    np.testing.assert_array_equal(ours, keras_dataloader(tokenize, 8, dataset, **options))
    with pytest.raises(ValueError, match="Unknown strategy"):
        get_dataloader(tokenize, 8, dataset, strategy="bogus")
