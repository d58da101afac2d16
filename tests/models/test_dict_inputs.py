"""A functional model built on a dict of Inputs (`Model({"a": Input(...), ...}, ...)`) takes
its data by the dict's keys, as Keras: called eagerly, nested in another model, in `fit` and
`predict`. keraslike looked the data up by the Inputs' layer names ("Missing data for input
'input_layer_1'"; keras-io's Perceiver)."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _models(lib):
    inputs = {
        "latent_array": lib.Input(shape=(4, 3)),
        "data_array": lib.Input(shape=(6, 3)),
    }
    query = lib.layers.Dense(3)(inputs["latent_array"])
    value = lib.layers.Dense(3)(inputs["data_array"])
    outputs = lib.layers.Attention()([query, value])
    model = lib.Model(inputs=inputs, outputs=outputs)
    return model


def test_dict_inputs_by_key_match_keras():
    rng = np.random.default_rng(0)
    data = {"latent_array": rng.normal(size=(2, 4, 3)).astype("float32"),
            "data_array": rng.normal(size=(2, 6, 3)).astype("float32")}
    y = rng.normal(size=(2, 4, 3)).astype("float32")
    theirs, ours = _models(keras), _models(keraslike)
    ours.set_weights([np.array(w) for w in theirs.get_weights()])
    expected = keras.ops.convert_to_numpy(theirs(data))
    np.testing.assert_allclose(ours(data).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.predict(data, verbose=0), theirs.predict(data, verbose=0), rtol=1e-5, atol=1e-6)
    for model in (theirs, ours):
        model.compile("sgd", "mse")
    expected = theirs.fit(data, y, epochs=2, batch_size=2, verbose=0).history["loss"]
    np.testing.assert_allclose(ours.fit(data, y, epochs=2, batch_size=2, verbose=0).history["loss"],
                               expected, rtol=1e-5)
