"""Quantized Dense and Embedding (`quantize`, quantized dtype policies): parity with Keras 3."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike.layers import quantized_float8


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _np(keras, value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _quantize_pair(keras, cls, kwargs, build_shape, mode, config=None, lora=None):
    rng = np.random.default_rng(0)
    theirs = getattr(keras.layers, cls)(name="q", **kwargs)
    ours = getattr(keraslike.layers, cls)(name="q", **kwargs)
    theirs.build(build_shape)
    ours.build(build_shape)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    if lora:
        theirs.enable_lora(lora)
        ours.enable_lora(lora)
        ab = [rng.standard_normal(w.shape).astype("float32") * 0.1 for w in theirs.get_weights()[-2:]]
        theirs.set_weights(theirs.get_weights()[:-2] + ab)
        ours.set_weights(ours.get_weights()[:-2] + ab)
    keras_config = None if config is None else keras.quantizers.deserialize(keraslike.quantizers.serialize(config))
    theirs.quantize(mode, config=keras_config)
    ours.quantize(mode, config=config)
    return theirs, ours


DENSE_MODES = [
    ("int8", None),
    ("int8", keraslike.quantizers.Int8QuantizationConfig(activation_quantizer=None)),
    ("int4", None),
    ("int4", keraslike.quantizers.Int4QuantizationConfig(block_size=-1)),
    ("int4", keraslike.quantizers.Int4QuantizationConfig(block_size=4)),
]


@pytest.mark.parametrize("mode,config", DENSE_MODES, ids=["int8", "int8-weight-only", "int4-128", "int4-channel", "int4-4"])
@pytest.mark.parametrize("lora", [None, 2])
def test_dense_quantize_matches_keras(keras, mode, config, lora):
    theirs, ours = _quantize_pair(keras, "Dense", {"units": 7}, (None, 10), mode, config, lora)
    assert ours.dtype_policy.name == theirs.dtype_policy.name
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    x = np.random.default_rng(1).standard_normal((5, 3, 10)).astype("float32")
    np.testing.assert_allclose(
        ours(torch.as_tensor(x)).detach().numpy(), _np(keras, theirs(x)), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        ours.kernel.detach().numpy(), _np(keras, theirs.kernel), rtol=1e-6, atol=1e-6
    )
    assert ours.get_config() == theirs.get_config() | {"quantization_config": ours.get_config()["quantization_config"]}
    # Keras's file layout, as Keras writes it (LoRA merged and requantized).
    store_ours, store_theirs = {}, {}
    ours.save_own_variables(store_ours)
    theirs.save_own_variables(store_theirs)
    assert sorted(store_ours) == sorted(store_theirs)
    for key in store_theirs:
        np.testing.assert_allclose(
            np.asarray(store_ours[key]), _np(keras, store_theirs[key]), rtol=1e-5, atol=1e-5
        )


def test_dense_float8_matches_keras_in_inference_and_training(keras):
    theirs, ours = _quantize_pair(keras, "Dense", {"units": 6}, (None, 8), "float8")
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    x = np.random.default_rng(2).standard_normal((4, 8)).astype("float32")
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), _np(keras, theirs(x)), rtol=1e-6)
    y = np.random.default_rng(3).standard_normal((4, 6)).astype("float32")
    histories = []
    for lib, layer in ((keras, theirs), (keraslike, ours)):
        model = lib.Sequential([lib.Input((8,)), layer])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        histories.append(model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode,config", [
    ("int8", None), ("int4", None), ("int4", keraslike.quantizers.Int4QuantizationConfig(block_size=-1)),
    ("int4", keraslike.quantizers.Int4QuantizationConfig(block_size=3)),
], ids=["int8", "int4-128", "int4-channel", "int4-3"])
def test_embedding_quantize_matches_keras(keras, mode, config):
    theirs, ours = _quantize_pair(keras, "Embedding", {"input_dim": 9, "output_dim": 7}, (None, 4), mode, config)
    assert ours.dtype_policy.name == theirs.dtype_policy.name
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    idx = np.random.default_rng(4).integers(0, 9, (3, 5))
    np.testing.assert_allclose(ours(torch.as_tensor(idx)).numpy(), _np(keras, theirs(idx)), rtol=1e-6, atol=1e-6)


def test_policy_built_layers_have_keras_counts(keras):
    for name in ("int8_from_mixed_bfloat16", "int4_from_float32", "int4/8_from_float32", "float8_from_float32"):
        theirs = keras.layers.Dense(5, dtype=name)
        ours = keraslike.layers.Dense(5, dtype=name)
        theirs.build((None, 16))
        ours.build((None, 16))
        assert [w.path.split("/")[-1] for w in ours.weights] == [w.path.split("/")[-1] for w in theirs.weights], name
        assert len(ours.trainable_weights) == len(theirs.trainable_weights), name
        assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights), name
        assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


def test_float8_scales_are_trainable_but_left_to_the_layer(keras):
    """Keras counts the float8 scales and histories as trainable and its optimizers overwrite
    them with their "gradients": no optimizer state for them, no gradient warnings."""
    layer = keraslike.layers.Dense(4, dtype="float8_from_float32", name="f8")
    layer.build((None, 6))
    assert len(layer.trainable_weights) == 8
    scales = [w for w in layer.trainable_weights if getattr(w, "overwrite_with_gradient", False)]
    assert len(scales) == 6 and not any(w.requires_grad for w in scales)
    optimizer = keraslike.optimizers.Adam()
    theirs = keras.optimizers.Adam()
    k_layer = keras.layers.Dense(4, dtype="float8_from_float32", name="f8")
    k_layer.build((None, 6))
    theirs.build(k_layer.trainable_variables)
    optimizer.build(layer.trainable_weights)
    assert list(optimizer.get_slot_state()) == [v.name for v in theirs.variables]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(torch.randn(3, 6), training=True).sum().backward()
        optimizer.apply([w.grad for w in layer.trainable_weights], layer.trainable_weights)
    new_scale = torch.tensor(0.5)
    optimizer.apply([new_scale if w is layer.inputs_scale else None
                     for w in layer.trainable_weights], layer.trainable_weights)
    assert float(layer.inputs_scale) == 0.5  # a gradient given for one replaces its value
    layer.trainable = False
    layer.trainable = True
    assert not layer.inputs_scale.requires_grad


def test_float8_under_mixed_bfloat16_trains():
    layer = keraslike.layers.Dense(5, dtype="float8_from_mixed_bfloat16")
    inputs = keraslike.Input((3, 4))
    model = keraslike.Model(inputs, layer(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((2, 3, 4), "float32"), np.zeros((2, 3, 5), "float32")
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert float(layer.kernel_amax_history.max()) > 0  # the scales followed the bfloat16 kernel


def test_int8_gradients_reach_inputs_and_lora_only():
    layer = keraslike.layers.Dense(4)
    layer.build((None, 6))
    layer.quantize("int8")
    layer.enable_lora(2)
    x = torch.randn(3, 6, requires_grad=True)
    layer(x).sum().backward()
    float_kernel = layer.weight.float() / layer.kernel_scale[:, None]
    torch.testing.assert_close(x.grad, float_kernel.sum(0).expand(3, 6), rtol=1e-5, atol=1e-5)
    assert layer.lora_kernel_b.grad is not None and layer.weight.grad is None


def _model(lib):
    inputs = lib.Input(shape=(12,), dtype="int32")
    x = lib.layers.Embedding(20, 16, name="emb")(inputs)
    x = lib.layers.Dense(16, activation="relu", name="d0")(x)
    return lib.Model(inputs, lib.layers.Dense(5, name="d1")(x))


@pytest.mark.parametrize("mode", ["int8", "int4"])
@pytest.mark.parametrize("source,target", [("keras", "keraslike"), ("keraslike", "keras")])
def test_quantized_keras_files_move_both_ways(keras, tmp_path, mode, source, target):
    libs = {"keras": keras, "keraslike": keraslike}
    model = _model(libs[source])
    model.quantize(mode)
    path = str(tmp_path / f"q_{mode}.keras")
    model.save(path)
    loaded = libs[target].saving.load_model(path)
    x = np.random.default_rng(5).integers(0, 20, (4, 12)).astype("int32")
    np.testing.assert_allclose(
        np.asarray(loaded.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-5
    )
    assert loaded.get_layer("d0").dtype_policy.name == model.get_layer("d0").dtype_policy.name
    assert loaded.get_layer("emb").quantization_mode == mode


def test_native_file_keeps_quantized_weights(tmp_path):
    model = _model(keraslike)
    model.quantize("int8", filters="d")
    assert model.get_layer("emb").quantization_mode is None
    path = tmp_path / "q.safetensors"
    model.save(path)
    loaded = keraslike.saving.load_model(path)
    x = np.random.default_rng(6).integers(0, 20, (4, 12)).astype("int32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_layer("d0").weight.dtype == torch.int8


def test_quantize_errors():
    layer = keraslike.layers.Dense(3)
    with pytest.raises(ValueError, match="Invalid quantization mode"):
        layer.quantize("int3")
    with pytest.raises(ValueError, match="not built"):
        layer.quantize("int8")
    layer.build((None, 4))
    layer.quantize("int8")
    with pytest.raises(ValueError, match="already quantized"):
        layer.quantize("int8")
    with pytest.raises(ValueError, match="Contradictory"):
        keraslike.layers.Dense(3).quantize("int4", config=keraslike.quantizers.Int8QuantizationConfig())


EINSUM_CASES = [
    ({"equation": "ab,bc->ac", "output_shape": 6, "bias_axes": "c"}, (None, 5), (4, 5)),
    ({"equation": "abc,cde->abde", "output_shape": (3, 2, 4), "bias_axes": "de"}, (None, 3, 5), (2, 3, 5)),
    ({"equation": "abcd,cde->abe", "output_shape": (3, 4)}, (None, 3, 2, 5), (2, 3, 2, 5)),
    ({"equation": "abc,cd->abd", "output_shape": (3, 4)}, (None, 3, 5), (2, 3, 5)),
]


@pytest.mark.parametrize("kwargs,build_shape,x_shape", EINSUM_CASES, ids=[c[0]["equation"] for c in EINSUM_CASES])
@pytest.mark.parametrize("weight_only", [False, True])
@pytest.mark.parametrize("lora", [None, 2])
def test_einsum_dense_int8_matches_keras(keras, kwargs, build_shape, x_shape, weight_only, lora):
    config = keraslike.quantizers.Int8QuantizationConfig(activation_quantizer=None) if weight_only else None
    theirs, ours = _quantize_pair(keras, "EinsumDense", kwargs, build_shape, "int8", config, lora)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    x = np.random.default_rng(7).standard_normal(x_shape).astype("float32")
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), _np(keras, theirs(x)), rtol=1e-5, atol=1e-5)
    store_ours, store_theirs = {}, {}
    ours.save_own_variables(store_ours)
    theirs.save_own_variables(store_theirs)
    for key in store_theirs:
        np.testing.assert_allclose(np.asarray(store_ours[key]), _np(keras, store_theirs[key]), rtol=1e-5, atol=1e-5)
    built = keraslike.layers.EinsumDense.from_config(theirs.get_config())
    built.build(build_shape)
    assert [tuple(w.shape) for w in built.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


@pytest.mark.parametrize("mode", ["int8", "int4", "float8"])
def test_quantized_dense_compiles_without_graph_breaks(mode):
    layer = keraslike.layers.Dense(16)
    layer.build((None, 32))
    layer.quantize(mode)
    x = torch.randn(4, 32)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(x), layer(x))


INT4_CONFIGS = [
    None,  # Keras's default: groups of 128 rows
    keraslike.quantizers.Int4QuantizationConfig(block_size=-1),
    keraslike.quantizers.Int4QuantizationConfig(block_size=2),
    keraslike.quantizers.Int4QuantizationConfig(
        block_size=-1, activation_quantizer=keraslike.quantizers.AbsMaxQuantizer()),
]


@pytest.mark.parametrize("config", INT4_CONFIGS, ids=["int4-128", "int4-channel", "int4-2",
                                                      "int4-channel-dynamic"])
def test_einsum_dense_int4_matches_keras(keras, config):
    for i, (kwargs, build_shape, x_shape) in enumerate(EINSUM_CASES):
        lora = 2 if i % 2 else None
        theirs, ours = _quantize_pair(keras, "EinsumDense", kwargs, build_shape, "int4", config,
                                      lora)
        assert ours.dtype_policy.name == theirs.dtype_policy.name
        assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
        assert len(ours.trainable_weights) == len(theirs.trainable_weights)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        x = np.random.default_rng(8).standard_normal(x_shape).astype("float32")
        np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(),
                                   _np(keras, theirs(x)), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ours.kernel.detach().numpy(), _np(keras, theirs.kernel),
                                   rtol=1e-6, atol=1e-6)
        store_ours, store_theirs = {}, {}
        ours.save_own_variables(store_ours)
        theirs.save_own_variables(store_theirs)
        assert sorted(store_ours) == sorted(store_theirs)
        for key in store_theirs:
            np.testing.assert_allclose(np.asarray(store_ours[key]), _np(keras, store_theirs[key]),
                                       rtol=1e-5, atol=1e-5)
        if lora is None:
            built = keraslike.layers.EinsumDense.from_config(theirs.get_config())
            built.build(build_shape)
            assert [tuple(w.shape) for w in built.get_weights()] == [
                tuple(w.shape) for w in theirs.get_weights()]


def test_einsum_dense_float8_matches_keras_in_inference_and_training(keras):
    kwargs = {"equation": "abc,cde->abde", "output_shape": (3, 2, 4), "bias_axes": "de"}
    theirs, ours = _quantize_pair(keras, "EinsumDense", kwargs, (None, 3, 5), "float8")
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 8
    x = np.random.default_rng(9).standard_normal((4, 3, 5)).astype("float32")
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), _np(keras, theirs(x)),
                               rtol=1e-6, atol=1e-6)
    y = np.random.default_rng(10).standard_normal((4, 3, 2, 4)).astype("float32")
    histories = []
    for lib, layer in ((keras, theirs), (keraslike, ours)):
        model = lib.Sequential([lib.Input((3, 5)), layer])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        histories.append(model.fit(x, y, batch_size=2, epochs=2, shuffle=False,
                                   verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["int4", "float8"])
def test_einsum_dense_quantized_keras_files_move_both_ways(keras, tmp_path, mode):
    for source, target in (("keras", "keraslike"), ("keraslike", "keras")):
        libs = {"keras": keras, "keraslike": keraslike}
        lib = libs[source]
        inputs = lib.Input((3, 5))
        x = lib.layers.EinsumDense("abc,cd->abd", output_shape=(3, 6), bias_axes="d",
                                   name="e")(inputs)
        model = lib.Model(inputs, x)
        model.quantize(mode)
        path = str(tmp_path / f"{source}_{mode}.keras")
        model.save(path)
        loaded = libs[target].saving.load_model(path)
        data = np.random.default_rng(11).standard_normal((2, 3, 5)).astype("float32")
        np.testing.assert_allclose(np.asarray(loaded.predict(data, verbose=0)),
                                   np.asarray(model.predict(data, verbose=0)), rtol=1e-5,
                                   atol=1e-5)
        assert loaded.get_layer("e").quantization_mode == mode


@pytest.mark.cuda
def test_float8_dense_uses_scaled_mm_on_capable_gpus():
    """On a GPU with float8 matmuls, Dense float8 runs `torch._scaled_mm` on the float8 values;
    outputs and gradients equal the dequantize-then-matmul path (the CPU one) up to rounding."""
    device = torch.device("cuda")
    if torch.cuda.get_device_capability(device) < (8, 9):
        pytest.skip("no float8 matmuls on this GPU")
    layer = keraslike.layers.Dense(64, dtype="float8_from_float32")
    layer.build((None, 32))
    layer.to(device)
    x = torch.randn(8, 32, device=device, requires_grad=True)
    calls = []
    original = torch._scaled_mm

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    torch._scaled_mm = counting
    try:
        y = layer(x, training=False)
    finally:
        torch._scaled_mm = original
    assert calls, "the float8 GEMM was not used"
    qx = quantized_float8._Float8QDQ.apply(x, layer.inputs_scale)
    qk = quantized_float8._Float8QDQ.apply(layer.weight.t(), layer.kernel_scale)
    reference = qx @ qk + layer.bias
    # Hopper's float8 tensor cores accumulate with fewer mantissa bits than float32 (measured on
    # an H200: relative differences up to 5.5e-4 against the float32 matmul of the same values).
    torch.testing.assert_close(y, reference, rtol=2e-3, atol=2e-3)
    y.sum().backward()
    grad_x, grad_w = x.grad.clone(), layer.weight.grad.clone()
    x.grad = None
    layer.weight.grad = None
    reference.sum().backward()
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad_w, layer.weight.grad, rtol=1e-5, atol=1e-5)
