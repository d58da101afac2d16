"""Small Keras 3 names added for API breadth: `keras.layers.serialize/deserialize/Wrapper`,
`keras.config.dtype_policy/set_dtype_policy`, checked against Keras 3."""

import numpy as np
import pytest
import torch

import keraslike


def test_layers_serialize_matches_keras_and_deserializes_both_ways(keras_oracle):
    ours = keraslike.layers.serialize(keraslike.layers.Dense(3, activation="relu", name="d"))
    theirs = keras_oracle.layers.serialize(keras_oracle.layers.Dense(3, activation="relu",
                                                                     name="d"))
    assert ours == theirs
    layer = keraslike.layers.deserialize(theirs)
    assert isinstance(layer, keraslike.layers.Dense) and layer.units == 3
    assert isinstance(keras_oracle.layers.deserialize(ours), keras_oracle.layers.Dense)


def test_layers_deserialize_refuses_a_non_layer():
    config = keraslike.optimizers.serialize(keraslike.optimizers.SGD())
    with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
        keraslike.layers.deserialize(config)


@keraslike.saving.register_keras_serializable(package="test_api_additions")
class Doubled(keraslike.layers.Wrapper):
    def call(self, inputs):
        return 2 * self.layer(inputs)


def test_wrapper_holds_the_layer_its_weights_and_its_config(tmp_path):
    inputs = keraslike.Input((4,))
    model = keraslike.Model(inputs, Doubled(keraslike.layers.Dense(3, name="inner"))(inputs))
    assert model.count_params() == 15
    x = torch.randn(2, 4)
    inner = model.layers[1].layer
    torch.testing.assert_close(model(x), 2 * inner(x))
    config = model.layers[1].get_config()
    assert config["layer"]["class_name"] == "Dense"
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keraslike.saving.load_model(path)
    np.testing.assert_allclose(loaded(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="isn't a supported layer type"):
        Doubled("dense")


def test_config_dtype_policy_is_the_global_policy(keras_oracle):
    try:
        keraslike.config.set_dtype_policy("mixed_bfloat16")
        assert keraslike.config.dtype_policy().name == "mixed_bfloat16"
        assert keraslike.layers.Dense(2).dtype_policy.name == "mixed_bfloat16"
    finally:
        keraslike.config.set_dtype_policy("float32")
    assert str(keraslike.config.dtype_policy()) == str(keras_oracle.config.dtype_policy())
    with pytest.raises(ValueError, match="policy"):
        keraslike.config.set_dtype_policy(3)
