"""`class_weight` and sample weights in compiled metrics, side by side with Keras 3.

Keras turns `class_weight` into per-sample weights that reach the loss and `weighted_metrics`
only (`metrics` stay unweighted), and names a weighted metric whose name is taken
`weighted_<name>`. Same model, same weights, SGD with learning rate 0: every logged number equal.
"""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _case(lib, kind, rng):
    if kind == "binary":
        y = (rng.random(20) > 0.5).astype("float32")
        return y, 1, "sigmoid", "binary_crossentropy", lambda: [
            "accuracy", "auc", lib.metrics.Precision(name="p"), lib.metrics.MeanSquaredError(name="mse")]
    if kind == "sparse":
        y = rng.integers(0, 3, 20)
        return y, 3, "softmax", "sparse_categorical_crossentropy", lambda: [
            "accuracy", lib.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")]
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 20)]
    return y, 3, "softmax", "categorical_crossentropy", lambda: [
        "accuracy", lib.metrics.CategoricalCrossentropy(name="cce")]


def _logs(lib, kind, weighted):
    rng = np.random.default_rng(0)
    x = rng.random((20, 4)).astype("float32")
    y, units, activation, loss, metrics = _case(lib, kind, rng)
    weights = [rng.standard_normal((4, units)).astype("float32"), np.zeros(units, "float32")]
    inputs = lib.Input((4,))
    model = lib.Model(inputs, lib.layers.Dense(units, activation=activation)(inputs))
    model.set_weights(weights)
    extra = {"weighted_metrics": metrics()} if weighted else {}
    model.compile(optimizer=lib.optimizers.SGD(0.0), loss=loss, metrics=metrics()[:1 if weighted else None], **extra)
    history = model.fit(x, y, batch_size=8, epochs=1, class_weight={0: 0.5, 1: 2.0, 2: 3.0}, verbose=0,
                        shuffle=False)
    evaluated = model.evaluate(x, y, batch_size=8, verbose=0)
    return {k: v[0] for k, v in history.history.items()}, np.atleast_1d(evaluated)


CASES = [
    pytest.param("binary", True, id="binary-weighted_metrics"),
    pytest.param("binary", False, id="binary-metrics", marks=pytest.mark.slow),
    pytest.param("sparse", True, id="sparse-weighted_metrics", marks=pytest.mark.slow),
    pytest.param("sparse", False, id="sparse-metrics", marks=pytest.mark.slow),
    pytest.param("onehot", True, id="onehot-weighted_metrics", marks=pytest.mark.slow),
    pytest.param("onehot", False, id="onehot-metrics", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("kind,weighted", CASES)
def test_class_weight_logs_match_keras(kind, weighted):
    ours, ours_eval = _logs(keraslike, kind, weighted)
    theirs, theirs_eval = _logs(keras, kind, weighted)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(ours_eval, theirs_eval, rtol=1e-5, atol=1e-6)
