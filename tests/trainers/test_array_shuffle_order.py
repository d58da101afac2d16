"""`fit(x, y, shuffle=True)` on in-memory data draws each epoch's sample order as Keras 3's torch
backend does (its DataLoader's base seed, then its RandomSampler's seed from torch's global
generator), so under `set_random_seed` keraslike trains on Keras's order and leaves torch's
global random state where Keras leaves it, through fit, evaluate and predict."""

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")

_RNG = np.random.default_rng(0)
_X = _RNG.random((22, 8)).astype("float32")
_Y = _RNG.random((22, 1)).astype("float32")


def _model(lib, weights=None):
    model = lib.Sequential([lib.Input((8,)), lib.layers.Dense(4, activation="relu"), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    if weights is not None:
        model.set_weights(weights)
    return model


def _scenario(lib, kind, weights=None):
    model = _model(lib, weights)
    lib.utils.set_random_seed(3)
    out = {}
    if kind == "validation_split":
        out.update(model.fit(_X, _Y, batch_size=4, epochs=3, verbose=0, validation_split=0.3).history)
    elif kind == "steps_per_epoch":
        out.update(model.fit(_X, _Y, batch_size=4, epochs=4, steps_per_epoch=2, verbose=0).history)
    else:
        out["evaluate"] = model.evaluate(_X, _Y, verbose=0)
        out["predict"] = model.predict(_X, verbose=0).ravel()
        out.update(model.fit(_X, _Y, batch_size=5, epochs=2, verbose=0, validation_data=(_X[:6], _Y[:6])).history)
        second = model.fit(_X, _Y, batch_size=5, epochs=2, verbose=0).history
        out.update({f"second_{k}": v for k, v in second.items()})
    return out, torch.get_rng_state(), model.get_weights()


@pytest.mark.parametrize("kind", ["validation_split", "steps_per_epoch", "evaluate_predict_then_fit"])
def test_shuffled_fit_matches_keras_and_leaves_the_same_random_state(kind):
    weights = _model(keras).get_weights()
    expected, expected_state, _ = _scenario(keras, kind, weights)
    result, state, _ = _scenario(keraslike, kind, weights)
    assert sorted(result) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(result[key], float), np.asarray(expected[key], float),
                                   rtol=1e-5, atol=1e-6, err_msg=key)
    assert torch.equal(state, expected_state)


def test_single_batch_methods_draw_nothing():
    model = _model(keraslike)
    model.predict_on_batch(_X)
    state = torch.get_rng_state()
    model.train_on_batch(_X, _Y)
    model.test_on_batch(_X, _Y)
    model.predict_on_batch(_X)
    assert torch.equal(torch.get_rng_state(), state)
