"""`keraslike.backend.dtypes` (result_type, standardize_dtype, is_*_dtype) against Keras 3."""

import itertools

import pytest
import torch

from keraslike.backend import dtypes

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "bfloat16", "float16", "float32",
          "float64", "complex64", int, float, None]


def test_result_type_matches_keras_on_every_pair(keras_oracle):
    for a, b in itertools.product(DTYPES, DTYPES):
        assert dtypes.result_type(a, b) == keras_oracle.backend.result_type(a, b), (a, b)
    assert dtypes.result_type() == keras_oracle.backend.result_type()
    assert dtypes.result_type("int8", "uint8", float) == keras_oracle.backend.result_type(
        "int8", "uint8", float
    )


def test_float8_refused():
    with pytest.raises(ValueError, match="float8"):
        dtypes.result_type("float8_e4m3fn", "float32")


def test_predicates_and_standardize(keras_oracle):
    for name in ["bool", "uint8", "int32", "int64", "bfloat16", "float16", "float32", "float64"]:
        assert dtypes.is_float_dtype(name) == keras_oracle.backend.is_float_dtype(name)
        assert dtypes.is_int_dtype(name) == keras_oracle.backend.is_int_dtype(name)
        assert dtypes.standardize_dtype(name) == keras_oracle.backend.standardize_dtype(name)
    assert dtypes.standardize_dtype(torch.bfloat16) == "bfloat16"
    assert dtypes.standardize_dtype(int) == "int32"


def test_torch_result_type_agrees_with_result_type():
    torch_dtypes = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                    torch.bfloat16, torch.float16, torch.float32, torch.float64, torch.complex64]
    operands = torch_dtypes + [int, float]
    for combo in itertools.chain(
        ((a,) for a in operands),
        itertools.product(operands, repeat=2),
        itertools.product(torch_dtypes, torch_dtypes, [int, float]),
    ):
        expected = dtypes.TORCH_DTYPES[dtypes.result_type(*combo)]
        assert dtypes.torch_result_type(*combo) == expected, combo
    assert dtypes.torch_result_type(torch.float64, float) == torch.float32
    assert dtypes.torch_result_type("int64", "uint8") == torch.int32
