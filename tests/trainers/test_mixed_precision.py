"""Mixed precision: float32 weights, half-precision compute under autocast, loss scaling."""

import numpy as np
import pytest
import torch

import keraslike as keras


@pytest.fixture
def policy():
    yield keras.mixed_precision.set_global_policy
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_policy_trains_with_float32_weights(policy, name):
    policy(name)
    inputs = keras.Input(shape=(20,))
    outputs = keras.layers.Dense(3)(keras.layers.Dense(32, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    dense = model.layers[1]
    assert dense.dtype == "float32" and dense.compute_dtype == name.split("_")[1]
    assert dense.weight.dtype == torch.float32
    assert dense.get_config()["dtype"]["config"]["name"] == name
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.random((256, 20)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int64")
    history = model.fit(x, y, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.layers[1].weight.dtype == torch.float32
    if name == "mixed_float16":
        assert model._loss_scale == 2.0**15


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="mixed_float8"):
        keras.mixed_precision.set_global_policy("mixed_float8")
