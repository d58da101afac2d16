"""One training path: `fit` runs `train_step` / `test_step` / `predict_step` with Keras 3's
torch-backend contract, built in or overridden (also `compute_loss` alone), side by side with
Keras 3.15 on the same weights and data."""

import numpy as np
import pytest
import torch

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _grad(weight):
    """A weight's gradient in either library (Keras's torch Variables keep it on `.value`)."""
    return (weight.value if hasattr(weight, "value") else weight).grad


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.random((n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")


def _run_both(keras, make_class, compile_kwargs, fit_kwargs=None, evaluate=True):
    """Builds `make_class(lib)(inputs, outputs)` in both libraries with equal weights, compiles,
    fits; returns {lib name: (history, evaluate result, weights)}."""
    x, y = _data()
    results = {}
    initial = None
    for name, lib in (("keraslike", keraslike), ("keras", keras)):
        inputs = lib.Input((4,))
        hidden = lib.layers.Dense(3, activation="tanh")(inputs)
        model = make_class(lib)(inputs, lib.layers.Dense(1)(hidden))
        if initial is None:
            initial = [w.copy() for w in model.get_weights()]  # get_weights may alias the live tensors
        else:
            model.set_weights(initial)
        model.compile(**compile_kwargs(lib))
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, **(fit_kwargs or {}))
        result = model.evaluate(x, y, verbose=0, return_dict=True) if evaluate else None
        results[name] = (history.history, result, model.get_weights())
    return results


def _assert_same(results, rtol=1e-5):
    ours, theirs = results["keraslike"], results["keras"]
    assert sorted(ours[0]) == sorted(theirs[0])
    for key in theirs[0]:
        np.testing.assert_allclose(ours[0][key], theirs[0][key], rtol=rtol, atol=1e-6, err_msg=key)
    if theirs[1] is not None:
        assert list(ours[1]) == list(theirs[1])
        np.testing.assert_allclose(list(ours[1].values()), list(theirs[1].values()), rtol=rtol, atol=1e-6)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6)


def test_builtin_step_matches_keras(keras):
    results = _run_both(
        keras,
        lambda lib: lib.Model,
        lambda lib: dict(optimizer=lib.optimizers.Adam(0.01), loss="mse", metrics=["mae"]),
    )
    _assert_same(results)


def _guide_model(lib):
    class GuideModel(lib.Model):
        """keras-io's "customizing what happens in fit" (torch) train_step, unchanged."""

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return GuideModel


def test_keras_io_guide_train_step_matches_keras(keras):
    results = _run_both(
        keras, _guide_model, lambda lib: dict(optimizer=lib.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    )
    _assert_same(results)


def _apply_gradients_model(lib):
    class ApplyGradients(lib.Model):
        def train_step(self, data):
            x, y, sample_weight = lib.utils.unpack_x_y_sample_weight(data)
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            self.zero_grad()
            loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply_gradients(zip([_grad(w) for w in weights], weights))
            return self.compute_metrics(x, y, y_pred, sample_weight)

    return ApplyGradients


def test_apply_gradients_step_with_sample_weights_matches_keras(keras):
    sample_weight = np.linspace(0.5, 1.5, 32).astype("float32")
    results = _run_both(
        keras,
        _apply_gradients_model,
        lambda lib: dict(optimizer=lib.optimizers.SGD(0.05), loss="mse", weighted_metrics=["mae"]),
        fit_kwargs={"sample_weight": sample_weight},
    )
    _assert_same(results)


def _compute_loss_model(lib):
    class ScaledLoss(lib.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return lib.ops.mean((y_pred - y) ** 2) * 2.0

    return ScaledLoss


@pytest.mark.parametrize("compiled_loss", [None, "mae"])
def test_compute_loss_override_is_what_fit_trains(keras, compiled_loss):
    results = _run_both(
        keras,
        _compute_loss_model,
        lambda lib: dict(optimizer=lib.optimizers.SGD(0.05), loss=compiled_loss,
                         metrics=None if compiled_loss is None else ["mse"]),
    )
    _assert_same(results)


def _add_loss_layer(lib, seen):
    class AddsLoss(lib.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            if training:
                self.add_loss(lib.ops.sum(x) * 0.5)
            return x

    return AddsLoss


def test_losses_added_in_call_join_the_training_loss(keras):
    x, y = _data()
    results = {}
    initial = None
    for name, lib in (("keraslike", keraslike), ("keras", keras)):
        seen = []
        inputs = lib.Input((4,))
        hidden = lib.layers.Dense(3, kernel_regularizer=lib.regularizers.L2(0.1))(inputs)
        model = lib.Model(inputs, lib.layers.Dense(1)(_add_loss_layer(lib, seen)()(hidden)))
        if initial is None:
            initial = [w.copy() for w in model.get_weights()]  # get_weights may alias the live tensors
        else:
            model.set_weights(initial)
        model.compile(lib.optimizers.SGD(0.01), "mse")
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        results[name] = (history, model.evaluate(x, y, verbose=0, return_dict=True), model.get_weights())
    _assert_same(results, rtol=1e-4)


def _custom_metrics_model(lib):
    class OwnTrackers(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")

        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = lib.ops.mean((y_pred - y) ** 2)
            self.zero_grad()
            loss.backward()
            weights = self.trainable_weights
            with torch.no_grad():
                self.optimizer.apply([_grad(w) for w in weights], weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    return OwnTrackers


def test_metrics_held_by_the_model_are_reset_each_epoch(keras):
    results = _run_both(
        keras, _custom_metrics_model, lambda lib: dict(optimizer=lib.optimizers.SGD(0.05)), evaluate=False
    )
    _assert_same(results)


def _test_step_model(lib, calls):
    class CountsTests(lib.Model):
        def test_step(self, data):
            calls.append(1)
            x, y = data
            y_pred = self(x, training=False)
            for metric in self.metrics:
                if metric.name != "loss":
                    metric.update_state(y, y_pred)
            return {"twice_mae": 2 * self.metrics[1].result()["mae"]}

        def predict_step(self, data):
            x = data  # one input array: the step data is `x` itself, as in Keras
            return self(x, training=False) * 10

    return CountsTests


def test_test_step_and_predict_step_overrides_are_used(keras):
    x, y = _data()
    for lib in (keraslike, keras):
        calls = []
        inputs = lib.Input((4,))
        model = _test_step_model(lib, calls)(inputs, lib.layers.Dense(1)(inputs))
        model.compile("sgd", "mse", metrics=["mae"])
        logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
        assert len(calls) == 4 and list(logs) == ["twice_mae"]
        plain = lib.Model(inputs, model.layers[-1](inputs))
        np.testing.assert_allclose(
            model.predict(x, verbose=0), 10 * plain.predict(x, verbose=0), rtol=1e-6
        )


@pytest.mark.parametrize(
    "outputs, metrics",
    [(1, ["mse", "mae"]), (2, [["mse", "mae"], ["mae"]]), (2, {"b": ["mse", "mae"]})],
)
def test_evaluate_list_order_matches_keras(keras, outputs, metrics):
    x, y = _data()
    values = {}
    for name, lib in (("keraslike", keraslike), ("keras", keras)):
        inputs = lib.Input((4,))
        heads = [lib.layers.Dense(1, name=n)(inputs) for n in "ab"[:outputs]]
        model = lib.Model(inputs, heads if outputs > 1 else heads[0])
        if name == "keras":
            model.set_weights(reference)
        reference = [w.copy() for w in model.get_weights()]
        model.compile("sgd", "mse", metrics=metrics)
        targets = [y] * outputs if outputs > 1 else y
        values[name] = (model.evaluate(x, targets, verbose=0), model.metrics_names)
    np.testing.assert_allclose(values["keraslike"][0], values["keras"][0], rtol=1e-5)
    assert values["keraslike"][1] == values["keras"][1]


def test_compiled_without_loss_and_no_override_says_so():
    x, y = _data()
    inputs = keraslike.Input((4,))
    model = keraslike.Model(inputs, keraslike.layers.Dense(1)(inputs))
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(x, y, verbose=0)
