"""`keras.layers.ReversibleEmbedding` against Keras 3: weights, both call directions, configs,
a tied-weights language model trained two epochs, `.keras` files both ways; int8/int4
quantization (`quantize`, quantized dtype policies) with Keras's weights, numbers and files."""

import numpy as np
import pytest
import torch

import keraslike

CASES = [{}, {"tie_weights": False, "logit_soft_cap": 2.0},
         {"mask_zero": True, "reverse_dtype": "float32"}]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(sorted(k)) for k in CASES])
def test_matches_keras_both_ways(keras_oracle, kwargs):
    theirs = keras_oracle.layers.ReversibleEmbedding(11, 6, name="r", **kwargs)
    ours = keraslike.layers.ReversibleEmbedding(11, 6, name="r", **kwargs)
    theirs.build()
    ours.build()
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    ours.set_weights([keras_oracle.ops.convert_to_numpy(w) for w in theirs.weights])
    ids = np.random.default_rng(0).integers(0, 11, (2, 5))
    hidden = np.random.default_rng(1).standard_normal((2, 5, 6)).astype("float32")
    np.testing.assert_allclose(ours(torch.as_tensor(ids)).detach().numpy(),
                               keras_oracle.ops.convert_to_numpy(theirs(ids)), rtol=1e-6)
    np.testing.assert_allclose(
        ours(torch.as_tensor(hidden), reverse=True).detach().numpy(),
        keras_oracle.ops.convert_to_numpy(theirs(hidden, reverse=True)), rtol=1e-5, atol=1e-6)
    assert ours.get_config() == theirs.get_config()


def _language_model(lib):
    inputs = lib.Input((5,), dtype="int32")
    embedding = lib.layers.ReversibleEmbedding(13, 8, name="tok")
    x = embedding(inputs)
    x = lib.layers.Dense(8, activation="tanh", name="mix")(x)
    return lib.Model(inputs, embedding(x, reverse=True))


def test_tied_language_model_trains_like_keras(keras_oracle, tmp_path):
    keras = keras_oracle
    rng = np.random.default_rng(2)
    x = rng.integers(0, 13, (24, 5)).astype("int32")
    y = rng.integers(0, 13, (24, 5)).astype("int32")
    theirs, ours = _language_model(keras), _language_model(keraslike)
    assert ours.get_layer("tok").weights[0].shape == (13, 8)
    ours.set_weights(theirs.get_weights())
    losses = []
    for lib, model in ((keras, theirs), (keraslike, ours)):
        model.compile(optimizer=lib.optimizers.Adam(0.01),
                      loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True))
        losses.append(model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                                verbose=0).history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    for got, expected in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    for source, target in ((keras, keraslike), (keraslike, keras)):
        model = theirs if source is keras else ours
        path = str(tmp_path / f"{source.__name__}.keras")
        model.save(path)
        loaded = target.saving.load_model(path)
        np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                                   np.asarray(model.predict(x, verbose=0)), rtol=1e-5,
                                   atol=1e-5)


def test_symbolic_shapes():
    inputs = keraslike.Input((5,), dtype="int32")
    layer = keraslike.layers.ReversibleEmbedding(11, 6, mask_zero=True)
    hidden = layer(inputs)
    logits = layer(hidden, reverse=True)
    assert hidden.shape == (None, 5, 6) and logits.shape == (None, 5, 11)


# ------------------------------------------------------------------------------ quantized


def _np(keras, value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _configs(lib, name):
    q = lib.quantizers
    return {
        None: None,
        "int8-weight-only": q.Int8QuantizationConfig(activation_quantizer=None),
        "int4-channel": q.Int4QuantizationConfig(block_size=-1),
        "int4-3": q.Int4QuantizationConfig(block_size=3),
        "int4-channel-dynamic": q.Int4QuantizationConfig(
            block_size=None, activation_quantizer=q.AbsMaxQuantizer(axis=-1)),
    }[name]


QUANTIZE_CASES = [("int8", None), ("int8", "int8-weight-only"), ("int4", None),
                  ("int4", "int4-channel"), ("int4", "int4-3"), ("int4", "int4-channel-dynamic")]


def _assert_same_weights(ours, theirs):
    assert [(w.path, tuple(w.shape)) for w in ours.weights] == [
        (w.path, tuple(w.shape)) for w in theirs.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def _assert_same_calls(ours, theirs, keras, rtol=1e-5, atol=1e-5, same_dtypes=True):
    rng = np.random.default_rng(3)
    ids = rng.integers(0, ours.input_dim, (3, 5))
    hidden = rng.standard_normal((3, 5, ours.output_dim)).astype("float32")
    for got, expected in ((ours(torch.as_tensor(ids)), theirs(ids)),
                          (ours(torch.as_tensor(hidden), reverse=True), theirs(hidden, reverse=True))):
        if same_dtypes:
            assert str(got.dtype).replace("torch.", "") == keras.backend.standardize_dtype(
                expected.dtype)
        np.testing.assert_allclose(got.detach().float().numpy(),
                                   _np(keras, expected).astype("float32"), rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode,config", QUANTIZE_CASES, ids=[c or m for m, c in QUANTIZE_CASES])
@pytest.mark.parametrize("tie_weights", [True, False], ids=["tied", "untied"])
def test_quantize_matches_keras(keras_oracle, mode, config, tie_weights):
    keras = keras_oracle
    kwargs = {"tie_weights": tie_weights, "logit_soft_cap": 3.0}
    theirs = keras.layers.ReversibleEmbedding(11, 7, name="r", **kwargs)
    ours = keraslike.layers.ReversibleEmbedding(11, 7, name="r", **kwargs)
    theirs.build()
    ours.build()
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    theirs.quantize(mode, config=_configs(keras, config))
    ours.quantize(mode, config=_configs(keraslike, config))
    assert ours.dtype_policy.name == theirs.dtype_policy.name
    assert (ours.inputs_quantizer is None) == (theirs.inputs_quantizer is None)
    _assert_same_weights(ours, theirs)
    _assert_same_calls(ours, theirs, keras)
    assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize("dtype", ["int8_from_float32", "int4_from_float32",
                                   "int4/4_from_float32", "int8_from_mixed_bfloat16"])
@pytest.mark.parametrize("tie_weights", [True, False], ids=["tied", "untied"])
def test_quantized_policy_builds_and_calls_like_keras(keras_oracle, dtype, tie_weights):
    keras = keras_oracle
    theirs = keras.layers.ReversibleEmbedding(10, 9, tie_weights=tie_weights, name="r", dtype=dtype)
    ours = keraslike.layers.ReversibleEmbedding(10, 9, tie_weights=tie_weights, name="r",
                                                dtype=dtype)
    theirs.build()
    ours.build()
    assert [(w.path, tuple(w.shape)) for w in ours.weights] == [
        (w.path, tuple(w.shape)) for w in theirs.weights]
    # Quantized values from a float layer quantized by Keras (an unset policy-built layer is
    # all zeros).
    source = keras.layers.ReversibleEmbedding(10, 9, tie_weights=tie_weights)
    source.build()
    mode, _, block = dtype.split("_")[0].partition("/")
    config = None
    if mode == "int4":  # the policy's block size (`int4_from_...`: per channel)
        config = keras.quantizers.Int4QuantizationConfig(block_size=int(block or -1))
    source.quantize(mode, config=config)
    theirs.set_weights(source.get_weights())
    ours.set_weights(source.get_weights())
    # Under a mixed policy a direct Keras call reads the float scales autocast to bfloat16 (a
    # call inside a Keras model does not: Embedding turns autocast off); keraslike computes as
    # in a model, so the dtypes differ there and the numbers by bfloat16 rounding.
    mixed = "mixed" in dtype
    tolerance = 2e-2 if mixed else 1e-5
    _assert_same_calls(ours, theirs, keras, rtol=tolerance, atol=tolerance, same_dtypes=not mixed)


def _two_way_model(lib, tie_weights):
    inputs = lib.Input((5,), dtype="int32")
    embedding = lib.layers.ReversibleEmbedding(13, 8, tie_weights=tie_weights, name="tok")
    x = lib.layers.Dense(8, activation="tanh", name="mix")(embedding(inputs))
    return lib.Model(inputs, embedding(x, reverse=True))


@pytest.mark.parametrize("mode", [None, "int8", "int4"])
@pytest.mark.parametrize("tie_weights", [True, False], ids=["tied", "untied"])
def test_files_move_both_ways(keras_oracle, tmp_path, mode, tie_weights):
    keras = keras_oracle
    x = np.random.default_rng(4).integers(0, 13, (4, 5)).astype("int32")
    for source, target in ((keras, keraslike), (keraslike, keras)):
        model = _two_way_model(source, tie_weights)
        if mode:
            model.quantize(mode)
        expected = np.asarray(model.predict(x, verbose=0))
        path = str(tmp_path / f"{source.__name__}_{mode}.keras")
        model.save(path)
        loaded = target.saving.load_model(path)
        assert loaded.get_layer("tok").quantization_mode == mode
        np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected,
                                   rtol=1e-5, atol=1e-5)
        weights_path = str(tmp_path / f"{source.__name__}_{mode}.weights.h5")
        model.save_weights(weights_path)
        fresh = _two_way_model(target, tie_weights)
        if mode:
            fresh.quantize(mode)
        fresh.load_weights(weights_path)
        np.testing.assert_allclose(np.asarray(fresh.predict(x, verbose=0)), expected,
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["int8", "int4"])
def test_native_file_keeps_quantized_tables(tmp_path, mode):
    model = _two_way_model(keraslike, tie_weights=False)
    model.quantize(mode)
    path = tmp_path / "q.safetensors"
    model.save(path)
    loaded = keraslike.saving.load_model(path)
    x = np.random.default_rng(5).integers(0, 13, (4, 5)).astype("int32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_layer("tok").reverse_embeddings.dtype == torch.int8


@pytest.mark.parametrize("mode", ["int8", "int4"])
def test_quantized_reverse_passes_gradients_straight_through(mode):
    layer = keraslike.layers.ReversibleEmbedding(6, 8, tie_weights=False)
    layer.build()
    config = keraslike.quantizers.Int4QuantizationConfig(block_size=-1) if mode == "int4" else None
    layer.quantize(mode, config=config)
    hidden = torch.randn(3, 8, requires_grad=True)
    layer(hidden, reverse=True).sum().backward()
    values = layer.reverse_embeddings.float()
    if mode == "int4":
        values = keraslike.quantizers.unpack_int4(layer.reverse_embeddings, 8, axis=0).float()
    kernel = values / layer.reverse_embeddings_scale  # (output_dim, input_dim)
    torch.testing.assert_close(hidden.grad, kernel.sum(1).expand(3, 8), rtol=1e-5, atol=1e-5)


def test_quantize_refuses_subclasses_and_float8():
    class Sub(keraslike.layers.ReversibleEmbedding):
        pass

    layer = Sub(11, 6)
    layer.build()
    with pytest.raises(NotImplementedError, match="Sub"):
        layer.quantize("int8")
    layer.quantize("int8", type_check=False)
    assert layer.quantization_mode == "int8"
    layer = keraslike.layers.ReversibleEmbedding(11, 6)
    layer.build()
    with pytest.raises(NotImplementedError, match="float8"):
        layer.quantize("float8")


@pytest.mark.cuda
@pytest.mark.parametrize("mode", ["int8", "int4"])
@pytest.mark.parametrize("tie_weights", [True, False], ids=["tied", "untied"])
def test_quantized_reverse_on_cuda_equals_cpu(mode, tie_weights):
    """On the GPU the int8 x int8 reverse product is exact too (`torch._int_mm` where cuBLASLt
    takes the shapes: 32 rows, sizes multiples of 8): logits equal the CPU ones."""
    layer = keraslike.layers.ReversibleEmbedding(24, 16, tie_weights=tie_weights)
    layer.build()
    config = (keraslike.quantizers.Int4QuantizationConfig(
        block_size=-1, activation_quantizer=keraslike.quantizers.AbsMaxQuantizer(axis=-1))
        if mode == "int4" else None)
    layer.quantize(mode, config=config)
    hidden = torch.randn(32, 16)
    ids = torch.randint(0, 24, (4, 5))
    expected = layer(hidden, reverse=True), layer(ids)
    layer.to("cuda")
    got = layer(hidden.cuda(), reverse=True), layer(ids.cuda())
    for a, b in zip(got, expected):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-6, atol=1e-6)
