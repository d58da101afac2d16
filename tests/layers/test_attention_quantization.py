"""MultiHeadAttention / GroupedQueryAttention quantization against Keras 3 (the oracle).

Keras's attention layers project with EinsumDense sublayers, so `model.quantize(mode)` quantizes
the query/key/value/output projections; keraslike's `HeadProjection` must do the same, with the
same weights (names, shapes, dtypes, order, values) and outputs.
"""

import os
import warnings

import numpy as np
import torch
import pytest

import keraslike
from keraslike.layers.attention.projection import HeadProjection

os.environ.setdefault("KERAS_BACKEND", "torch")
keras3 = pytest.importorskip("keras")

MODES = ["int8", "int4", "float8"]


def _mha_pair(lib_a, lib_b, seed=0, attention_axes=None, gqa=False, shape=(4, 8)):
    """The same small attention model in two libraries, sharing float weights."""
    models = []
    for lib in (lib_a, lib_b):
        x = lib.Input(shape)
        if gqa:
            layer = lib.layers.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                                   num_key_value_heads=2, name="gqa")
        else:
            layer = lib.layers.MultiHeadAttention(2, 3, attention_axes=attention_axes,
                                                  name="mha")
        y = layer(x, x)
        models.append(lib.Model(x, y))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in models[0].get_weights()]
    for model in models:
        model.set_weights(weights)
    return models


def _paths(model):
    # `sublayer/weight` (keraslike's paths leave out the attention layer's own name, also for
    # float weights: a separate, pre-existing difference)
    return ["/".join(w.path.split("/")[-2:]) for w in model.weights]


def _inputs(shape=(4, 8), seed=1):
    return np.random.default_rng(seed).normal(size=(2,) + shape).astype("float32")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("gqa", [False, True])
def test_quantize_matches_keras(mode, gqa):
    ours, theirs = _mha_pair(keraslike, keras3, gqa=gqa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.quantize(mode)
        theirs.quantize(mode)
    assert _paths(ours) == _paths(theirs)
    ours_w, theirs_w = ours.get_weights(), theirs.get_weights()
    assert [w.shape for w in ours_w] == [w.shape for w in theirs_w]
    assert [str(w.dtype) for w in ours_w] == [str(w.dtype) for w in theirs_w]
    for a, b, path in zip(ours_w, theirs_w, _paths(ours)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=path)
    x = _inputs()
    got = np.asarray(ours.predict(x, verbose=0))
    want = keras3.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # the quantized model really differs from the float one (the projections were quantized)
    float_ours, _ = _mha_pair(keraslike, keras3, gqa=gqa)
    assert not np.allclose(np.asarray(float_ours.predict(x, verbose=0)), got, atol=1e-5)



@pytest.mark.parametrize("mode", MODES)
def test_quantized_files_move_both_ways(mode, tmp_path):
    """Same `.keras` weight layout as Keras; each library's file loads into the other's
    quantized model (`load_weights`) and predicts the same. `load_model` of such a file fails
    in Keras 3.15.1 too (the config does not say the projections are quantized): a ValueError."""
    ours, theirs = _mha_pair(keraslike, keras3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.quantize(mode)
        theirs.quantize(mode)
    ours_path, theirs_path = str(tmp_path / "ours.keras"), str(tmp_path / "theirs.keras")
    ours.save(ours_path)
    theirs.save(theirs_path)
    x = _inputs()
    want = keras3.ops.convert_to_numpy(theirs(x))
    fresh_ours, fresh_theirs = _mha_pair(keraslike, keras3, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh_ours.quantize(mode)
        fresh_theirs.quantize(mode)
    fresh_ours.load_weights(theirs_path)
    fresh_theirs.load_weights(ours_path)
    np.testing.assert_allclose(np.asarray(fresh_ours.predict(x, verbose=0)), want,
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(keras3.ops.convert_to_numpy(fresh_theirs(x)), want,
                               rtol=1e-4, atol=1e-4)
    for a, b in zip(fresh_ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        keraslike.saving.load_model(theirs_path)


@pytest.mark.parametrize("policy", ["int8_from_float32", "int4_from_float32",
                                    "float8_from_float32"])
def test_quantized_policy_on_attention_raises_as_keras(policy):
    x = _inputs()
    mode = policy.split("_")[0]
    for layer, keras_name in (
        (keraslike.layers.MultiHeadAttention(2, 3, dtype=policy), "MultiHeadAttention"),
        (keraslike.layers.GroupQueryAttention(head_dim=3, num_query_heads=2,
                                              num_key_value_heads=1, dtype=policy),
         "GroupedQueryAttention"),
    ):
        with pytest.raises(NotImplementedError,
                           match=f"Layer {keras_name} does not have a `_{mode}_call`"):
            layer(x, x)
    with pytest.raises(NotImplementedError, match=f"`_{mode}_call`"):
        keras3.layers.MultiHeadAttention(2, 3, dtype=policy)(x, x)


def test_model_quantize_warns_for_leaf_layers_without_quantize():
    x = keraslike.Input((4, 8))
    y = keraslike.layers.MultiHeadAttention(2, 3)(x, x)
    model = keraslike.Model(x, keraslike.layers.LayerNormalization()(y))
    with pytest.warns(UserWarning, match="Layer LayerNormalization does not have a `quantize` "
                                         "method implemented."):
        model.quantize("int8")
    assert str(model.layers[-2].query_dense.kernel.dtype).endswith("int8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y2 = keraslike.layers.MultiHeadAttention(2, 3)(x, x)
        model2 = keraslike.Model(x, keraslike.layers.LayerNormalization()(y2))
        model2.quantize("int8", filters="query")  # filtered-out layers are not warned about


def _attention_block_class(lib):
    class AttentionBlock(lib.layers.Layer):
        """A self-attention block with a residual connection."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.mha = lib.layers.MultiHeadAttention(2, 8)

        def call(self, x):
            return x + self.mha(x, x)

    return AttentionBlock


def _calibrated_pair(mode):
    vocab, seq, dim = 40, 8, 16
    pairs = []
    for lib in (keras3, keraslike):
        inputs = lib.Input((seq,), dtype="int32")
        embedding = lib.layers.Embedding(vocab, dim)
        blocks = [_attention_block_class(lib)() for _ in range(2)]
        x = embedding(inputs)
        for block in blocks:
            x = block(x)
        pairs.append((lib.Model(inputs, x), {"pre_block_layers": [embedding],
                                              "sequential_blocks": blocks}))
    (theirs, k_structure), (ours, structure) = pairs
    ours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(0)
    data = [rng.integers(0, vocab, size=(1, seq)) for _ in range(6)]
    settings = dict(tokenizer=lambda s: s, num_samples=4, sequence_length=seq, group_size=8)
    name = f"{mode.upper()}Config"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.quantize(mode, config=getattr(keras3.quantizers, name)(
            dataset=data, quantization_layer_structure=k_structure, **settings))
        ours.quantize(mode, config=getattr(keraslike.quantizers, name)(
            dataset=data, quantization_layer_structure=structure, **settings))
    return theirs, ours, np.concatenate(data[:3])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["gptq", "awq"])
def test_calibrated_attention_has_keras_layout(mode):
    """GPTQ/AWQ calibrate the attention projections; the weights have Keras's names, shapes,
    dtypes and order, and the float parts (biases, here also scales) Keras's values.

    Keras 3.15.1 (torch) calibrates MultiHeadAttention's projections on zero Hessians (its
    input hooks never fire inside MHA), so its quantized kernels are not an oracle; the values
    are checked against EinsumDense in `test_calibrated_projection_equals_einsum_dense`."""
    theirs, ours, x = _calibrated_pair(mode)
    assert _paths(ours)[1:] == _paths(theirs)[1:]  # (the embedding's name depends on the session)
    assert sum(p.endswith("kernel_scale") for p in _paths(ours)) == 8
    for a, b, path in zip(ours.get_weights(), theirs.get_weights(), _paths(ours)):
        assert a.shape == b.shape and str(a.dtype) == str(b.dtype), path
        if path.endswith("bias") or path.endswith("g_idx"):
            np.testing.assert_array_equal(a, b, err_msg=path)
    assert np.isfinite(ours.predict(x, verbose=0)).all()


@pytest.mark.parametrize("mode", ["gptq", "awq"])
@pytest.mark.parametrize("which", ["query", "output"])
def test_calibrated_projection_equals_einsum_dense(mode, which):
    """A projection calibrated on data equals an EinsumDense with Keras's equation for it."""
    vocab, seq, dim = 40, 8, 16
    if which == "query":
        projection = HeadProjection((dim,), (2, 8))
        dense = keraslike.layers.EinsumDense("abc,cde->abde", (None, 2, 8), bias_axes="de")
        pre = [keraslike.layers.Embedding(vocab, dim)]
    else:
        projection = HeadProjection((2, 8), (dim,))
        dense = keraslike.layers.EinsumDense("abcd,cde->abe", (None, dim), bias_axes="e")
        pre = [keraslike.layers.Embedding(vocab, dim), keraslike.layers.Reshape((seq, 2, 8))]
    rng = np.random.default_rng(0)
    data = [rng.integers(0, vocab, size=(1, seq)) for _ in range(6)]
    models = []
    for layer in (projection, dense):
        inputs = keraslike.Input((seq,), dtype="int32")
        x = inputs
        for p in pre:
            x = p(x)
        models.append((keraslike.Model(inputs, layer(x)), layer))
    (ours, _), (reference, _) = models
    rng_w = np.random.default_rng(3)
    reference.set_weights([rng_w.normal(size=w.shape).astype("float32")
                           for w in reference.get_weights()])
    ours.set_weights(reference.get_weights())
    for model, layer in models:
        config = getattr(keraslike.quantizers, f"{mode.upper()}Config")(
            dataset=data, tokenizer=lambda s: s, num_samples=4, sequence_length=seq,
            group_size=8, quantization_layer_structure={"pre_block_layers": pre,
                                                        "sequential_blocks": [layer]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.quantize(mode, config=config)
        assert layer._is_calibrated() and layer.quantization_mode == mode
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in reference.get_weights()]
    for a, b in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    x = np.concatenate(data[:3])
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("quantize", [None, "int8"])
def test_lora_on_projections_matches_keras(quantize):
    """`enable_lora` on an attention sublayer (as on Keras's EinsumDense) changes the output."""
    ours, theirs = _mha_pair(keraslike, keras3)
    for model in (ours, theirs):
        mha = model.layers[-1]
        if quantize:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.quantize(quantize)
        mha._query_dense.enable_lora(2)
        mha._output_dense.enable_lora(2)
    assert _paths(ours) == _paths(theirs)
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    rng = np.random.default_rng(7)
    weights = [w if not np.issubdtype(w.dtype, np.floating) or "lora" not in p
               else rng.normal(size=w.shape).astype("float32")
               for w, p in zip(theirs.get_weights(), _paths(theirs))]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = _inputs()
    got = np.asarray(ours.predict(x, verbose=0))
    np.testing.assert_allclose(got, keras3.ops.convert_to_numpy(theirs(x)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("policy", ["int8_from_float32", "int4_from_float32",
                                    "float8_from_float32"])
def test_projection_with_quantized_policy_builds_as_einsum_dense(policy):
    """A projection built under a quantized policy is Keras's EinsumDense sublayer so built."""
    projection = HeadProjection((8,), (2, 3), dtype=policy)
    projection.build((None, 4, 8))
    dense = keraslike.layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de",
                                         dtype=policy)
    dense.build((None, 4, 8))
    rng = np.random.default_rng(0)
    weights = [(rng.integers(-7, 8, size=w.shape) if w.dtype == np.int8
                else rng.uniform(0.5, 2.0, size=w.shape)).astype(w.dtype)
               for w in dense.get_weights()]
    dense.set_weights(weights)
    projection.set_weights(weights)
    assert [w.shape for w in projection.get_weights()] == [w.shape for w in weights]
    assert [w.path.split("/")[-1] for w in projection.weights] == [
        w.path.split("/")[-1] for w in dense.weights]
    x = torch.randn(2, 4, 8)
    torch.testing.assert_close(projection(x), dense(x))
