"""What Keras 3 programs see inside `fit`, `evaluate` and `predict`, side by side with Keras 3.15.

Each test runs the same program on keraslike and on Keras (torch backend), with the weights
copied across, and compares what the program observes.
"""

import warnings

import numpy as np
import pytest
import torch

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _libs(keras):
    return [("keraslike", keraslike), ("keras", keras)]


def _probe_class(lib, seen):
    class Probe(lib.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    return Probe


@pytest.mark.parametrize("model_kind", ["functional", "sequential", "nested"])
def test_training_flag_reaches_layers_in_fit_evaluate_predict(keras, model_kind):
    x = np.random.default_rng(0).random((16, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    observed = {}
    for name, lib in _libs(keras):
        seen = []
        probe = _probe_class(lib, seen)()
        if model_kind == "sequential":
            model = lib.Sequential([lib.Input((4,)), probe, lib.layers.Dense(1)])
        else:
            inputs = lib.Input((4,))
            outputs = lib.layers.Dense(1)(probe(inputs))
            model = lib.Model(inputs, outputs)
            if model_kind == "nested":
                outer_in = lib.Input((4,))
                model = lib.Model(outer_in, model(outer_in))
        model.compile("sgd", "mse")
        result = {}
        for what, run in (
            ("fit", lambda: model.fit(x, y, batch_size=8, epochs=1, verbose=0)),
            ("evaluate", lambda: model.evaluate(x, y, verbose=0)),
            ("predict", lambda: model.predict(x, verbose=0)),
        ):
            seen.clear()
            run()
            # Keras also runs a symbolic build pass; the per-step values are what matter.
            result[what] = [v for v in seen if v is not None]
        observed[name] = result
    assert True in observed["keras"]["fit"]
    assert observed["keraslike"]["fit"].count(True) == 2  # one per training step
    for what in ("evaluate", "predict"):
        assert set(observed["keraslike"][what]) == set(observed["keras"][what]) == {False}


def _two_output_model(lib):
    inputs = lib.Input((4,), name="x")
    a = lib.layers.Dense(1, name="a")(inputs)
    b = lib.layers.Dense(2, name="b")(inputs)
    return lib.Model(inputs, [a, b])


def _dict_output_model(lib):
    inputs = lib.Input((4,), name="x")
    a = lib.layers.Dense(1, name="a")(inputs)
    b = lib.layers.Dense(2, name="b")(inputs)
    return lib.Model(inputs, {"a": a, "b": b})


def _paired(keras, build):
    """The same model built in keraslike and in Keras, with keraslike's weights in both."""
    ours, theirs = build(keraslike), build(keras)
    theirs.set_weights(ours.get_weights())
    return [("keraslike", ours), ("keras", theirs)]


def _two_output_data():
    rng = np.random.default_rng(0)
    x = rng.random((16, 4)).astype("float32")
    return x, rng.random((16, 1)).astype("float32"), rng.random((16, 2)).astype("float32")


@pytest.mark.parametrize(
    "loss, metrics",
    [
        ({"b": "mse", "a": "mae"}, None),
        ({"b": "mse", "a": "mae"}, {"b": ["mae"], "a": ["mse"]}),
        (["mae", "mse"], [["mse"], ["mae"]]),
    ],
)
@pytest.mark.parametrize("outputs", ["list", "dict"])
def test_per_output_losses_are_in_keras_order(keras, loss, metrics, outputs):
    """List outputs: output order whatever the loss dict's key order. Dict outputs: the loss
    dict's key order (Keras walks the loss dict there)."""
    x, ya, yb = _two_output_data()
    results = {}
    build = _two_output_model if outputs == "list" else _dict_output_model
    for name, model in _paired(keras, build):
        model.compile("sgd", loss=loss, metrics=metrics)
        listed = model.evaluate(x, {"a": ya, "b": yb}, verbose=0)
        named = model.evaluate(x, {"a": ya, "b": yb}, verbose=0, return_dict=True)
        history = model.fit(x, {"a": ya, "b": yb}, epochs=1, shuffle=False, verbose=0).history
        results[name] = (listed, named, sorted(history))
    ours, theirs = results["keraslike"], results["keras"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    assert list(ours[1]) == list(theirs[1])
    np.testing.assert_allclose(list(ours[1].values()), list(theirs[1].values()), rtol=1e-5)
    assert ours[2] == theirs[2]


def test_a_none_loss_skips_its_output_and_target(keras):
    x, ya, _ = _two_output_data()
    results = {}
    for name, model in _paired(keras, _two_output_model):
        model.compile("sgd", loss=["mae", None])
        history = model.fit(x, ya, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        results[name] = (history, model.evaluate(x, ya, verbose=0, return_dict=True), model.get_weights())
    ours, theirs = results["keraslike"], results["keras"]
    assert sorted(ours[0]) == sorted(theirs[0]) == ["loss"]
    np.testing.assert_allclose(ours[0]["loss"], theirs[0]["loss"], rtol=1e-5)
    assert list(ours[1]) == list(theirs[1])
    for w_ours, w_theirs in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(w_ours, w_theirs, rtol=1e-5, atol=1e-6)


def _recorder_class(lib, events):
    class Recorder(lib.callbacks.Callback):
        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_test_batch_begin(self, batch, logs=None):
            events.append(f"test_batch_begin {batch}")

        def on_test_batch_end(self, batch, logs=None):
            events.append(f"test_batch_end {batch}")

        def on_test_end(self, logs=None):
            events.append(f"test_end {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

    return Recorder


def test_validation_in_fit_fires_the_test_hooks(keras):
    x = np.random.default_rng(0).random((20, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    events = {}
    for name, lib in _libs(keras):
        inputs = lib.Input((4,))
        model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
        model.compile("sgd", "mse", metrics=["mae"])
        events[name] = []
        model.fit(x, y, batch_size=4, epochs=2, validation_split=0.4, verbose=0,
                  callbacks=[_recorder_class(lib, events[name])()])
    assert events["keraslike"] == events["keras"]
    assert "test_begin" in events["keraslike"]


def test_fit_without_trainable_weights_warns_and_trains_nothing(keras):
    x = np.random.default_rng(0).random((8, 4)).astype("float32")
    results = {}
    for name, lib in _libs(keras):
        inputs = lib.Input((4,))
        model = lib.Model(inputs, lib.layers.Reshape((4, 1))(inputs))
        model.compile("sgd", "mse")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(x, x[:, :, None] * 2, batch_size=4, epochs=2, verbose=0)
        messages = {str(w.message) for w in caught}
        results[name] = (history.history, messages)
    assert "The model does not have any trainable weights." in results["keraslike"][1]
    assert "The model does not have any trainable weights." in results["keras"][1]
    np.testing.assert_allclose(results["keraslike"][0]["loss"], results["keras"][0]["loss"], rtol=1e-6)


def test_frozen_model_fits_without_error():
    inputs = keraslike.Input((4,))
    model = keraslike.Model(inputs, keraslike.layers.Dense(2)(inputs))
    model.trainable = False
    before = [w.copy() for w in model.get_weights()]
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        model.fit(np.ones((4, 4), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loss_over_an_empty_batch_is_a_differentiable_zero(keras):
    for loss_name in ("MeanSquaredError", "CategoricalCrossentropy", "MeanAbsoluteError"):
        y_pred = torch.zeros((1, 0, 10), requires_grad=True)
        ours = getattr(keraslike.losses, loss_name)()(torch.zeros((1, 0, 10)), y_pred)
        theirs = getattr(keras.losses, loss_name)()(torch.zeros((1, 0, 10)), torch.zeros((1, 0, 10)))
        assert tuple(ours.shape) == tuple(theirs.shape) == ()
        assert float(ours.detach()) == float(theirs) == 0.0
        assert ours.requires_grad
        ours.backward()
        assert y_pred.grad is not None and y_pred.grad.shape == (1, 0, 10)


def test_fit_on_an_empty_sequence_batch_does_not_raise():
    inputs = keraslike.Input((None, 3))
    model = keraslike.Model(inputs, keraslike.layers.Dense(10)(inputs))
    model.compile("sgd", "mse")
    history = model.fit(np.zeros((2, 0, 3), "float32"), np.zeros((2, 0, 10), "float32"), verbose=0)
    assert history.history["loss"] == [0.0]


def test_compiling_again_without_a_loss_keeps_the_previous_loss_and_metrics(keras):
    # keras-io's subclassing guide compiles a model with "mse", fits, then compiles with only an
    # optimizer: Keras 3 keeps the MSE (and the metrics) in the loss, it does not drop them.
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3)).astype("float32"), rng.random((8, 3)).astype("float32")
    results = {}
    for name, lib in _libs(keras):
        class Penalty(lib.layers.Layer):
            def call(self, inputs):
                self.add_loss(1e-2 * lib.ops.mean(inputs))
                return inputs

        inputs = lib.Input((3,))
        model = lib.Model(inputs, Penalty()(lib.layers.Dense(3, kernel_initializer="ones")(inputs)))
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        model.compile(optimizer="adam")
        history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
        results[name] = (history, model.evaluate(x, y, verbose=0), model.loss, model.get_compile_config()["loss"])
    ours, theirs = results["keraslike"], results["keras"]
    assert sorted(ours[0]) == sorted(theirs[0]) == ["loss", "mae"]
    for key in theirs[0]:
        np.testing.assert_allclose(ours[0][key], theirs[0][key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    assert ours[0]["loss"][0] > 0.5  # the MSE is still there (the penalty alone is ~0.015)
    assert ours[2:] == theirs[2:] == ("mse", None)
