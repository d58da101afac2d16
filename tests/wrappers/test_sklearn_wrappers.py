"""`keras.wrappers`: scikit-learn estimators around models, checked against Keras 3 (seeded fits
give the same predictions) and against scikit-learn's own tools."""

import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import keraslike

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RNG = np.random.default_rng(0)
X = RNG.random((24, 4))
Y_CLASS = np.array(["a", "b", "c"])[(X[:, 0] * 3).astype(int)]
Y_REG = X @ np.array([1.0, -2.0, 0.5, 3.0])


def dynamic_model(X, y, loss, out_activation="softmax", layers=(6,), lib=keraslike):
    """Keras's test model: an MLP sized from the data (module level, so estimators pickle)."""
    inputs = lib.Input((X.shape[1],))
    hidden = inputs
    for size in layers:
        hidden = lib.layers.Dense(size, activation="relu")(hidden)
    outputs = lib.layers.Dense(y.shape[1] if y.ndim > 1 else 1, activation=out_activation)(hidden)
    model = lib.Model(inputs, outputs)
    model.compile(loss=loss, optimizer="rmsprop")
    return model


def _builder(lib):
    return functools.partial(dynamic_model, lib=lib)


def _classifier(lib, **fit_kwargs):
    return lib.wrappers.SKLearnClassifier(
        model=_builder(lib),
        model_kwargs={"loss": "categorical_crossentropy"},
        fit_kwargs={"epochs": 3, "batch_size": 8, "verbose": 0, **fit_kwargs},
    )


def _regressor(lib, fit_kwargs={"epochs": 2, "verbose": 0}):  # noqa: B006 (never mutated)
    return lib.wrappers.SKLearnRegressor(
        model=_builder(lib),
        model_kwargs={"loss": "mse", "out_activation": None},
        fit_kwargs=fit_kwargs,
    )


def _compiled_model(lib):
    inputs = lib.Input((4,))
    model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse")
    return model


def _run(code, *args):
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=_ROOT)
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_sklearn_is_imported_on_first_use_and_its_absence_explained():
    code = """
import json, sys
if sys.argv[1] == "absent":
    sys.modules["sklearn"] = None  # as if it were not installed
import keraslike, keraslike.wrappers
before = "sklearn" in sys.modules
names = sorted(n for n in dir(keraslike.wrappers) if n.startswith("SKLearn"))
cls = keraslike.wrappers.SKLearnClassifier
try:
    cls(model=None)
    error = None
except ImportError as e:
    error = str(e)
print(json.dumps([before, names, "sklearn" in sys.modules, cls.__module__, error]))
"""
    before, names, after, module, error = _run(code, "present")
    assert before is False
    assert names == ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
    assert after is True and module == "keraslike.wrappers.sklearn_wrapper"
    assert error is None
    *_, error = _run(code, "absent")
    assert "SKLearnClassifier requires `scikit-learn`" in error
    assert "pip install scikit-learn" in error


def test_seeded_classifier_matches_keras():
    keras = pytest.importorskip("keras")
    results = []
    for lib in (keras, keraslike):
        lib.utils.set_random_seed(7)
        est = _classifier(lib).fit(X, Y_CLASS)
        results.append(est)
    theirs, ours = results
    assert list(ours.classes_) == list(theirs.classes_) == ["a", "b", "c"]
    assert ours.n_features_in_ == theirs.n_features_in_ == 4
    np.testing.assert_allclose(ours.history_.history["loss"], theirs.history_.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-5)
    assert list(ours.predict(X)) == list(theirs.predict(X))
    assert ours.predict(X).shape == (24,)
    assert ours.score(X, Y_CLASS) == theirs.score(X, Y_CLASS)
    assert ours.epoch_ == 3


def test_seeded_regressor_and_transformer_match_keras():
    keras = pytest.importorskip("keras")
    outputs = []
    for lib in (keras, keraslike):
        lib.utils.set_random_seed(3)
        regressor = _regressor(lib).fit(X, Y_REG)
        lib.utils.set_random_seed(4)
        model = _compiled_model(lib)
        transformer = lib.wrappers.SKLearnTransformer(model=model, fit_kwargs={"verbose": 0})
        transformer.fit(X, Y_REG)
        assert transformer.model_ is not model and transformer.model_.compiled
        outputs.append((regressor.predict(X), transformer.transform(X)))
    (reg_theirs, tr_theirs), (reg_ours, tr_ours) = outputs
    assert reg_ours.shape == reg_theirs.shape == (24,)
    np.testing.assert_allclose(reg_ours, reg_theirs, atol=1e-5)
    assert tr_ours.shape == tr_theirs.shape == (24, 1)
    np.testing.assert_allclose(tr_ours, tr_theirs, atol=1e-5)


def test_cross_val_score_matches_keras():
    keras = pytest.importorskip("keras")
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scores = []
    for lib in (keras, keraslike):
        lib.utils.set_random_seed(11)
        # No fit_kwargs: Keras's clone drops them (keraslike's keeps them), so the two
        # libraries train their clones alike only without.
        pipe = make_pipeline(StandardScaler(), _regressor(lib, fit_kwargs=None))
        scores.append(cross_val_score(pipe, X, Y_REG, cv=2))
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-5)


def test_grid_search_refits_the_best_parameters():
    from sklearn.model_selection import GridSearchCV

    keraslike.utils.set_random_seed(0)
    search = GridSearchCV(
        _classifier(keraslike),
        {"model_kwargs": [{"loss": "categorical_crossentropy", "layers": (4,)},
                          {"loss": "categorical_crossentropy", "layers": (8, 8)}]},
        cv=2,
    )
    search.fit(X, Y_CLASS)
    best = search.best_estimator_
    assert best.get_params()["model_kwargs"] in search.param_grid["model_kwargs"]
    units = [layer.units for layer in best.model_.layers[1:]]
    assert units == list(best.model_kwargs["layers"]) + [3]
    assert len(best.history_.history["loss"]) == 3  # the clone kept fit_kwargs (epochs=3)


def test_clone_get_params_set_params():
    est = _classifier(keraslike)
    params = est.get_params()
    assert sorted(params) == ["fit_kwargs", "model", "model_kwargs", "warm_start"]
    copy = clone(est)
    assert copy is not est and copy.get_params() == params
    est.fit(X, Y_CLASS, epochs=1)
    assert est.fit_kwargs == {"epochs": 3, "batch_size": 8, "verbose": 0}  # fit's kwargs not kept
    assert len(est.history_.history["loss"]) == 1  # ... but used, over fit_kwargs
    assert not hasattr(clone(est), "model_")
    est.set_params(warm_start=True)
    assert est.warm_start is True


def test_model_instances_are_cloned_with_their_compile_settings():
    model = _compiled_model(keraslike)
    before = [w.copy() for w in model.get_weights()]
    est = keraslike.wrappers.SKLearnRegressor(model=model, fit_kwargs={"epochs": 2, "verbose": 0})
    est.fit(X, Y_REG)
    assert est.model_ is not model
    assert est.model_.get_compile_config() == model.get_compile_config()
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)  # the given model is not trained


def test_warm_start_continues_training_the_fitted_model():
    keraslike.utils.set_random_seed(5)
    est = _regressor(keraslike).set_params(warm_start=True)
    est.fit(X, Y_REG)
    first = est.model_
    weights = [w.copy() for w in first.get_weights()]
    est.fit(X, Y_REG)
    assert est.model_ is first
    assert any(not np.array_equal(a, b) for a, b in zip(first.get_weights(), weights))
    cold = _regressor(keraslike).fit(X, Y_REG)
    previous = cold.model_
    cold.fit(X, Y_REG)
    assert cold.model_ is not previous


def test_errors():
    with pytest.raises(NotFittedError):
        _classifier(keraslike).predict(X)
    inputs = keraslike.Input((4,))
    uncompiled = keraslike.Model(inputs, keraslike.layers.Dense(1)(inputs))
    with pytest.raises(RuntimeError, match="needs to be compiled"):
        keraslike.wrappers.SKLearnRegressor(model=uncompiled).fit(X, Y_REG)
    with pytest.raises(ValueError, match="Only binary and multiclass target types"):
        _classifier(keraslike).fit(X, Y_REG)
    with pytest.raises(ValueError, match="only one class"):
        _classifier(keraslike).fit(X, np.zeros(24, dtype=int))
    fitted = _regressor(keraslike).fit(X, Y_REG)
    with pytest.raises(ValueError, match="4 features"):
        fitted.predict(X[:, :3])
    with pytest.raises(RuntimeError, match="metadata routing"):
        fitted.set_fit_request(sample_weight=True)


def test_set_fit_request_routes_to_fit():
    with sklearn.config_context(enable_metadata_routing=True):
        est = _regressor(keraslike).set_fit_request(sample_weight=True)
        assert est.get_metadata_routing().fit.requests == {"sample_weight": True}


@pytest.mark.slow
def test_sklearn_estimator_checks():
    """scikit-learn's estimator checks, with the failures Keras's own test expects."""
    from sklearn.utils.estimator_checks import check_estimator

    not_an_issue = "not an issue in sklearn>=1.6"
    # keraslike models do not pickle yet (Keras's do, through `Model.__reduce__`).
    no_pickle = {"check_estimators_pickle": "keraslike models cannot be pickled"}
    reproducibility = "This test assumes reproducibility in fit."
    expected = {
        "SKLearnClassifier": {
            "check_classifiers_regression_target": not_an_issue,
            "check_parameters_default_constructible": not_an_issue,
            "check_classifiers_one_label_sample_weights": "0 sample weight is not ignored",
            "check_classifiers_classes": "small test cases do not always return all classes",
            "check_classifier_data_not_an_array": reproducibility,
            "check_supervised_y_2d": reproducibility,
            "check_fit_idempotent": reproducibility,
            "check_classifiers_train": "decision_function returns probabilities or logits",
            **no_pickle,
        },
        "SKLearnRegressor": {"check_parameters_default_constructible": not_an_issue, **no_pickle},
        "SKLearnTransformer": {"check_parameters_default_constructible": not_an_issue, **no_pickle},
    }
    builder = dynamic_model
    estimators = [
        keraslike.wrappers.SKLearnClassifier(
            model=builder,
            model_kwargs={"loss": "categorical_crossentropy", "layers": [20, 20, 20]},
            fit_kwargs={"epochs": 5, "verbose": 0},
        ),
        keraslike.wrappers.SKLearnRegressor(
            model=builder, model_kwargs={"loss": "mse"}, fit_kwargs={"verbose": 0}
        ),
        keraslike.wrappers.SKLearnTransformer(
            model=builder, model_kwargs={"loss": "mse"}, fit_kwargs={"verbose": 0}
        ),
    ]
    for estimator in estimators:
        results = check_estimator(
            estimator,
            expected_failed_checks=expected[type(estimator).__name__],
            on_fail=None,
        )
        failed = [r for r in results if r["status"] == "failed"]
        assert not failed, [(r["check_name"], r["exception"]) for r in failed]
