"""Ported keras-io examples train the same numbers as Keras 3 from the same initial weights.

Each port listed here takes `run(keras, on_model=None, shuffle=True)`: `on_model(model)` is
called on every model just before it trains (a port may keep earlier fits' logs in
`History.results`, compared too). The Keras run records each model's initial
weights; the keraslike run sets them; both train unshuffled. Compared: every History entry
epoch by epoch, and each model's trained weights (a tighter check than the loss). Ports whose
models draw random numbers while training (dropout, sampling) are not listed here: the two
libraries' random streams differ, so only their shapes and names are compared (test_ports.py).
"""

import importlib

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

PARITY = [
    "keras_recipes_endpoint_layer_pattern",
    "guides_custom_train_step_in_torch",
    "vision_convmixer",
    "vision_super_resolution_sub_pixel",
    "structured_data_collaborative_filtering_movielens",
]

# Ports whose training draws random numbers (dropout): compared are their `History.results`
# (evaluations from the copied initial weights), the History's keys and the weights' shapes.
EVALUATION_PARITY = [
    "nlp_ner_transformers",
    "vision_cct",
    "generative_wgan_gp",
    "nlp_masked_language_modeling",
    "vision_mlp_image_classification",
]


def _run_both(name):
    module = importlib.import_module(f"tests.ports.{name}")
    theirs, ours, initial = [], [], []

    def record(model):
        theirs.append(model)
        initial.append([np.asarray(w) for w in model.get_weights()])

    def copy_in(model):
        model.set_weights(initial[len(ours)])
        ours.append(model)

    keras.utils.set_random_seed(0)
    expected = module.run(keras, on_model=record, shuffle=False)
    result = module.run(keraslike, on_model=copy_in, shuffle=False)
    return expected, result, theirs, ours


def _flat(results):
    """`{name: History dict or evaluate dict}` flattened to `{"name/key": numbers}`."""
    return {f"{name}/{key}": np.asarray(value, dtype="float64")
            for name, logs in results.items() for key, value in logs.items()}


def _compare_results(expected, result):
    extra_expected, extra_result = _flat(getattr(expected, "results", {})), _flat(getattr(result, "results", {}))
    assert sorted(extra_result) == sorted(extra_expected)
    for key in extra_expected:
        np.testing.assert_allclose(extra_result[key], extra_expected[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("name", EVALUATION_PARITY)
def test_port_evaluates_like_keras_from_the_same_weights(name):
    expected, result, theirs, ours = _run_both(name)
    assert getattr(expected, "results", None), "the port keeps no evaluations to compare"
    _compare_results(expected, result)
    assert sorted(result.history) == sorted(expected.history)
    assert len(ours) == len(theirs) > 0
    for a, b in zip(theirs, ours):
        assert [w.shape for w in b.get_weights()] == [np.shape(w) for w in a.get_weights()]


@pytest.mark.slow
@pytest.mark.parametrize("name", PARITY)
def test_port_trains_like_keras_from_the_same_weights(name):
    expected, result, theirs, ours = _run_both(name)
    # A port may also keep the logs of its earlier fits and evaluations in `History.results`.
    _compare_results(expected, result)
    expected, result = expected.history, result.history
    assert sorted(result) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(result[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert len(ours) == len(theirs) > 0
    for k, (a, b) in enumerate(zip(theirs, ours)):
        wa, wb = a.get_weights(), b.get_weights()
        assert [w.shape for w in wb] == [np.shape(w) for w in wa], f"model {k}"
        for i, (x, y) in enumerate(zip(wa, wb)):
            np.testing.assert_allclose(y, np.asarray(x), rtol=1e-4, atol=1e-5, err_msg=f"model {k} weight {i}")
