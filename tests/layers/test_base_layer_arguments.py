"""The Layer base never drops a Keras argument silently; Dot takes masked inputs; Lambda's config
round trip (Keras 3 is the oracle)."""

import numpy as np
import pytest
import torch

import keraslike as keras
from keraslike import layers, ops


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the type and message are compared
        return type(error).__name__, str(error)
    return None


def test_unknown_keyword_is_a_value_error_as_in_keras(keras_oracle):
    ours = _error(lambda: layers.Dense(3, bogus_kw=1))
    theirs = _error(lambda: keras_oracle.layers.Dense(3, bogus_kw=1))
    assert ours == theirs == ("ValueError", "Unrecognized keyword arguments passed to Dense: {'bogus_kw': 1}")
    assert _error(lambda: layers.Layer(bogus_kw=1))[0] == "ValueError"


def test_non_bool_trainable_is_refused_as_in_keras(keras_oracle):
    ours = _error(lambda: layers.Dense(3, trainable="yes"))
    theirs = _error(lambda: keras_oracle.layers.Dense(3, trainable="yes"))
    assert ours == theirs


def test_autocast_false_under_mixed_policy_is_not_implemented():
    with pytest.raises(NotImplementedError, match="autocast=False"):
        layers.Dense(3, dtype="mixed_float16", autocast=False)
    assert layers.Dense(3, autocast=False).autocast is False  # float32: nothing to opt out of


def test_dot_accepts_masked_inputs_as_in_keras(keras_oracle):
    results = []
    for lib in (keras, keras_oracle):
        a = lib.Input((5,), dtype="int32")
        b = lib.Input((5,), dtype="int32")
        ea = lib.layers.Embedding(10, 4, mask_zero=True)(a)
        eb = lib.layers.Embedding(10, 4, mask_zero=True)(b)
        dot = lib.layers.Dot(axes=2)
        out = dot([ea, eb])
        results.append((dot.supports_masking, tuple(out.shape), getattr(out, "_keras_mask", None)))
    assert results[0] == results[1] == (True, (None, 5, 5), None)


def test_lambda_of_an_op_round_trips_its_config(keras_oracle):
    layer = layers.Lambda(ops.square)
    config = layer.get_config()
    assert config["function"] == keras_oracle.layers.Lambda(keras_oracle.ops.square).get_config()["function"]
    rebuilt = layers.Lambda.from_config(config)
    torch.testing.assert_close(rebuilt(torch.tensor([3.0])), torch.tensor([9.0]))


def test_lambda_of_a_python_lambda_is_refused():
    config = layers.Lambda(lambda x: x * 2).get_config()
    with pytest.raises(ValueError, match="Python lambda"):
        layers.Lambda.from_config(config)
    with pytest.raises(TypeError, match="Could not locate function 'nope'"):
        layers.Lambda.from_config(dict(config, function={"class_name": "function", "config": "nope"}))
