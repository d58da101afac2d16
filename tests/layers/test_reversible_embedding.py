"""`keras.layers.ReversibleEmbedding` against Keras 3: weights, both call directions, configs,
a tied-weights language model trained two epochs, `.keras` files both ways."""

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


def test_symbolic_shapes_and_quantize_refusal():
    inputs = keraslike.Input((5,), dtype="int32")
    layer = keraslike.layers.ReversibleEmbedding(11, 6, mask_zero=True)
    hidden = layer(inputs)
    logits = layer(hidden, reverse=True)
    assert hidden.shape == (None, 5, 6) and logits.shape == (None, 5, 11)
    with pytest.raises(NotImplementedError, match="ReversibleEmbedding"):
        layer.quantize("int8")
