"""`keras.quantizers` and `keras.dtype_policies`: same names, numbers and configs as Keras 3."""

import numpy as np
import pytest
import torch

import keraslike
from keraslike import dtype_policies, quantizers


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _np(keras, value):
    return np.asarray(keras.ops.convert_to_numpy(value))


@pytest.mark.parametrize("module", ["quantizers", "dtype_policies"])
def test_exports_the_names_keras_exports(keras, module):
    theirs = {n for n in dir(getattr(keras, module)) if not n.startswith("_")}
    ours = {n for n in dir(getattr(keraslike, module)) if not n.startswith("_")}
    assert theirs <= ours


@pytest.mark.parametrize("axis", [0, -1, (0, 1)])
def test_abs_max_quantize_matches_keras(keras, axis):
    x = np.random.default_rng(0).standard_normal((6, 5)).astype("float32")
    q_theirs, s_theirs = keras.quantizers.abs_max_quantize(x, axis)
    q_ours, s_ours = quantizers.abs_max_quantize(x, axis)
    np.testing.assert_array_equal(q_ours.numpy(), _np(keras, q_theirs))
    np.testing.assert_allclose(s_ours.numpy(), _np(keras, s_theirs), rtol=1e-6)
    assert q_ours.dtype == torch.int8


def test_grouped_zero_point_matches_keras(keras):
    x = np.random.default_rng(1).standard_normal((10, 4)).astype("float32")
    theirs = keras.quantizers.abs_max_quantize_grouped_with_zero_point(x, block_size=4, to_numpy=True)
    ours = quantizers.abs_max_quantize_grouped_with_zero_point(x, block_size=4)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), _np(keras, b), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape,axis", [((3, 2), 0), ((2, 3), 1), ((4, 5, 3), 1), ((5,), 0)])
def test_int4_pack_unpack_match_keras(keras, shape, axis):
    values = np.random.default_rng(2).integers(-8, 8, shape).astype("int8")
    packed_theirs, shape_theirs, n_theirs = keras.quantizers.pack_int4(values, axis=axis)
    packed_ours, shape_ours, n_ours = quantizers.pack_int4(torch.as_tensor(values), axis=axis)
    np.testing.assert_array_equal(packed_ours.numpy(), _np(keras, packed_theirs))
    assert (shape_ours, n_ours) == (tuple(shape_theirs), n_theirs)
    np.testing.assert_array_equal(quantizers.unpack_int4(packed_ours, n_ours, axis=axis).numpy(), values)
    unsigned = quantizers.unpack_int4(packed_ours, n_ours, axis=axis, dtype="uint8")
    expected = keras.quantizers.unpack_int4(packed_theirs, n_theirs, axis=axis, dtype="uint8")
    np.testing.assert_array_equal(unsigned.numpy(), _np(keras, expected))
    with pytest.raises(TypeError):
        quantizers.pack_int4(torch.zeros(2, dtype=torch.int32))


def test_float8_helpers_match_keras(keras):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 4)).astype("float32") * 10
    history = np.abs(rng.standard_normal(6)).astype("float32")
    np.testing.assert_allclose(
        quantizers.compute_float8_amax_history(x, history).numpy(),
        _np(keras, keras.quantizers.compute_float8_amax_history(x, history)),
    )
    for amax in (0.0, 3.5, np.inf):
        ours = quantizers.compute_float8_scale(torch.tensor(amax), torch.tensor(2.0), 448.0)
        theirs = keras.quantizers.compute_float8_scale(np.float32(amax), np.float32(2.0), 448.0)
        np.testing.assert_allclose(ours.numpy(), _np(keras, theirs), rtol=1e-6)
    for dtype in ("float8_e4m3fn", "float8_e5m2"):
        ours = quantizers.quantize_and_dequantize(torch.as_tensor(x), torch.tensor(0.05), dtype, "float32")
        theirs = keras.quantizers.quantize_and_dequantize(x, np.float32(0.05), dtype, "float32")
        np.testing.assert_allclose(ours.numpy(), _np(keras, theirs), rtol=1e-6)


def test_fake_quant_matches_keras(keras):
    x = np.linspace(-2, 2, 24, dtype="float32").reshape(4, 6)
    for kwargs in ({}, {"num_bits": 4, "narrow_range": True}):
        ours = quantizers.fake_quant_with_min_max_vars(x, -1.0, 1.5, **kwargs)
        theirs = keras.quantizers.fake_quant_with_min_max_vars(x, -1.0, 1.5, **kwargs)
        np.testing.assert_allclose(ours.numpy(), _np(keras, theirs), atol=1e-6)
    lo, hi = np.array([-1.0] * 6, "float32"), np.linspace(0.5, 2, 6).astype("float32")
    ours = quantizers.fake_quant_with_min_max_vars(x, lo, hi, axis=-1)
    theirs = keras.quantizers.fake_quant_with_min_max_vars(x, lo, hi, axis=-1)
    np.testing.assert_allclose(ours.numpy(), _np(keras, theirs), atol=1e-6)


def test_quantizer_and_config_serialization_match_keras(keras):
    pairs = [
        (quantizers.AbsMaxQuantizer(axis=0), keras.quantizers.AbsMaxQuantizer(axis=0)),
        (quantizers.Int8QuantizationConfig(), keras.quantizers.Int8QuantizationConfig()),
        (quantizers.Int4QuantizationConfig(block_size=-1), keras.quantizers.Int4QuantizationConfig(block_size=-1)),
        (quantizers.Float8QuantizationConfig(), keras.quantizers.Float8QuantizationConfig()),
    ]
    for ours, theirs in pairs:
        assert quantizers.serialize(ours) == keras.quantizers.serialize(theirs)
        again = quantizers.deserialize(keras.quantizers.serialize(theirs))
        assert quantizers.serialize(again) == quantizers.serialize(ours)
    with pytest.raises(ValueError, match="value_range"):
        quantizers.AbsMaxQuantizer(value_range=(-200, 200))
    with pytest.raises(ValueError, match="custom"):
        quantizers.Int4QuantizationConfig(weight_quantizer=quantizers.AbsMaxQuantizer(value_range=(-8, 7)))


POLICIES = [
    ("DTypePolicy", ("mixed_bfloat16",)),
    ("FloatDTypePolicy", ("bfloat16",)),
    ("QuantizedDTypePolicy", ("int8", "mixed_bfloat16")),
    ("QuantizedFloat8DTypePolicy", ("float8", "float32", 16)),
    ("Int4DTypePolicy", ("int4/128", "float32")),
    ("GPTQDTypePolicy", ("gptq/4/128", "float32")),
    ("AWQDTypePolicy", ("awq/4/-1", "bfloat16")),
]


@pytest.mark.parametrize("cls,args", POLICIES, ids=[p[0] for p in POLICIES])
def test_policies_match_keras(keras, cls, args):
    ours = getattr(dtype_policies, cls)(*args)
    theirs = getattr(keras.dtype_policies, cls)(*args)
    assert dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype, ours.quantization_mode) == (
        theirs.name, theirs.compute_dtype, theirs.variable_dtype, theirs.quantization_mode
    )
    assert repr(ours) == repr(theirs)
    assert dtype_policies.get(keras.dtype_policies.serialize(theirs)) == ours
    assert dtype_policies.get(ours.name) == ours or cls == "QuantizedFloat8DTypePolicy"


def test_policy_errors_and_map(keras):
    with pytest.raises(ValueError, match="doesn't work well"):
        dtype_policies.QuantizedDTypePolicy("int8", "mixed_float16")
    with pytest.raises(ValueError, match="Cannot convert"):
        dtype_policies.DTypePolicy("mixed_float8")
    with pytest.raises(ValueError, match="Invalid mode"):
        dtype_policies.Int4DTypePolicy("int4", "float32")
    ours = dtype_policies.DTypePolicyMap()
    ours["encoder/.*"] = "int8_from_float32"
    ours["decoder"] = "bfloat16"
    theirs = keras.dtype_policies.DTypePolicyMap()
    theirs["encoder/.*"] = "int8_from_float32"
    theirs["decoder"] = "bfloat16"
    assert dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    assert ours["encoder/dense"].name == "int8_from_float32"
    assert ours["decoder/dense"].name == ours.default_policy.name == "float32"
    ours["encoder/d.*"] = "float16"
    with pytest.raises(ValueError, match="matches multiple"):
        ours["encoder/dense"]


def test_layers_take_policy_objects_and_names():
    layer = keraslike.layers.Dense(3, dtype=dtype_policies.DTypePolicy("mixed_bfloat16"))
    assert (layer.dtype, layer.compute_dtype) == ("float32", "bfloat16")
    assert layer.get_config()["dtype"]["config"] == {"name": "mixed_bfloat16"}
    layer = keraslike.layers.Dense(3, dtype="int8_from_mixed_bfloat16")
    assert layer.quantization_mode == "int8" and layer.compute_dtype == "bfloat16"
    assert isinstance(layer.dtype_policy, dtype_policies.QuantizedDTypePolicy)
