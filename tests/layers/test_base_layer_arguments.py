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


def test_autocast_false_under_mixed_policy_is_accepted_as_in_keras(keras_oracle):
    # Its semantics are tested against Keras in tests/layers/test_autocast_false_mixed.py.
    for lib in (keras_oracle, keras):
        layer = lib.layers.Dense(3, dtype="mixed_float16", autocast=False)
        assert layer.autocast is False
        assert (layer.compute_dtype, layer.variable_dtype) == ("float16", "float32")
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


def _nonzero_mask(inputs, mask=None):
    return inputs != 0


def _halve_shape(input_shape):
    return (input_shape[0], input_shape[1] // 2)


def test_lambda_mask_and_output_shape_functions_round_trip_like_keras(keras_oracle):
    """`mask=` and a callable `output_shape=` are in the config as Keras writes them, and a
    config round trip (named functions from `custom_objects`) keeps them working."""
    kwargs = {"mask": _nonzero_mask, "output_shape": _halve_shape}
    ours = layers.Lambda(ops.square, **kwargs).get_config()
    theirs = keras_oracle.layers.Lambda(keras_oracle.ops.square, **kwargs).get_config()
    for key in ("function", "mask", "output_shape", "arguments"):
        assert ours[key] == theirs[key], key
    custom = {"_nonzero_mask": _nonzero_mask, "_halve_shape": _halve_shape}
    rebuilt = layers.Lambda.from_config(ours, custom_objects=custom)
    x = torch.tensor([[0.0, 2.0]])
    torch.testing.assert_close(rebuilt.compute_mask(x, None), torch.tensor([[False, True]]))
    assert rebuilt.supports_masking
    assert rebuilt.compute_output_shape((None, 4)) == (None, 2)


def test_lambda_passes_mask_and_training_to_a_function_that_names_them():
    seen = {}

    def fn(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x * 2

    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(fn)(layers.Masking()(inputs)))
    model(torch.tensor([[1.0, 0.0, 2.0]]), training=True)
    assert seen["training"] is True
    torch.testing.assert_close(seen["mask"], torch.tensor([True]))


def test_lambda_output_shape_sets_the_symbolic_shape_like_keras(keras_oracle):
    results = []
    for lib in (keras, keras_oracle):
        x, y = lib.Input((4,)), lib.Input((2, 3))
        L, o = lib.layers.Lambda, lib.ops
        results.append([
            tuple(L(o.square, output_shape=(3,))(x).shape),
            [tuple(t.shape) for t in L(lambda ts: list(ts), output_shape=[(4,), (2, 3)])([x, y])],
            tuple(L(lambda ts: ts[0], output_shape=lambda s: s[0])([x, y]).shape),
            L(o.square).compute_output_shape((None, 5)),
            L(o.square, output_shape=(7,)).compute_output_shape((2, 5)),
        ])
    assert results[0] == results[1]


def test_lambda_with_a_registered_mask_function_saves_and_loads(tmp_path):
    @keras.saving.register_keras_serializable(package="fidelity_test")
    def nonzero(inputs, mask=None):
        return inputs != 0

    @keras.saving.register_keras_serializable(package="fidelity_test")
    def double(x):
        return x * 2

    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(double, mask=nonzero)(inputs))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=False)
    layer = loaded.layers[-1]
    x = torch.tensor([[0.0, 1.0, 2.0]])
    torch.testing.assert_close(loaded(x), x * 2)
    torch.testing.assert_close(layer.compute_mask(x, None), x != 0)


def test_frozen_weights_add_no_regularization_penalty_like_keras(keras_oracle):
    counts = []
    for lib in (keras, keras_oracle):
        dense = lib.layers.Dense(2, kernel_regularizer="l2", bias_regularizer="l1")
        dense.build((None, 3))
        frozen = lib.layers.Dense(2, kernel_regularizer="l2", trainable=False)
        frozen.build((None, 3))
        counts.append((len(dense.losses), len(frozen.losses)))
    assert counts[0] == counts[1] == (2, 0)
