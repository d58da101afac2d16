"""Training trajectories equal Keras 3's: same initial weights, same data, shuffle=False."""

import numpy as np
import pytest

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _mlp(lib):
    inputs = lib.Input(shape=(8,))
    x = lib.layers.Dense(16, activation="relu")(inputs)
    x = lib.layers.Dense(16, activation="tanh")(x)
    outputs = lib.layers.Dense(3)(x)
    return lib.Model(inputs, outputs)


def _data(n=96):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 8)).astype("float32"), rng.integers(0, 3, n)


def _train(lib, model, optimizer, x, y, **fit_kwargs):
    model.compile(
        optimizer=optimizer,
        loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, **fit_kwargs)


OPTIMIZERS = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True, "momentum": 0.5}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("AdamW", {}),
    ("Adagrad", {}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {}),
    ("Nadam", {}),
    ("Lion", {"learning_rate": 1e-4}),
    ("Lamb", {"learning_rate": 1e-3}),
    ("Adafactor", {"learning_rate": 1e-2}),
    ("Ftrl", {"learning_rate": 0.05, "l1_regularization_strength": 0.001}),
    ("Adam", {"clipnorm": 0.1}),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[f"{n}-{sorted(k)}" for n, k in OPTIMIZERS])
def test_two_epochs_match_keras(keras, name, kwargs):
    x, y = _data()
    theirs = _mlp(keras)
    ours = _mlp(keraslike)
    ours.set_weights(theirs.get_weights())
    h_theirs = _train(keras, theirs, getattr(keras.optimizers, name)(**kwargs), x, y)
    h_ours = _train(keraslike, ours, getattr(keraslike.optimizers, name)(**kwargs), x, y)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-4, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_schedule_and_validation_match_keras(keras):
    x, y = _data()
    theirs, ours = _mlp(keras), _mlp(keraslike)
    ours.set_weights(theirs.get_weights())
    schedule = dict(initial_learning_rate=0.05, decay_steps=3, decay_rate=0.5)
    h_theirs = _train(
        keras, theirs, keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(**schedule)),
        x, y, validation_split=0.25,
    )
    h_ours = _train(
        keraslike, ours, keraslike.optimizers.SGD(keraslike.optimizers.schedules.ExponentialDecay(**schedule)),
        x, y, validation_split=0.25,
    )
    assert sorted(h_ours.history) == sorted(h_theirs.history)
    for key in h_theirs.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=1e-4, atol=1e-6)


def test_short_last_batch_is_weighted_by_its_size(keras):
    x, y = _data(50)  # 16 + 16 + 16 + 2
    theirs, ours = _mlp(keras), _mlp(keraslike)
    ours.set_weights(theirs.get_weights())
    h_theirs = _train(keras, theirs, "sgd", x, y)
    h_ours = _train(keraslike, ours, "sgd", x, y)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-5)
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(theirs.evaluate(x, y, verbose=0), rel=1e-5)


def _ticket_like(lib, style="dict"):
    a = lib.Input((6,), name="a")
    b = lib.Input((4,), name="b")
    h = lib.layers.concatenate([lib.layers.Dense(8, activation="relu")(a), b])
    priority = lib.layers.Dense(1, name="priority")(h)
    department = lib.layers.Dense(4, name="department")(h)
    if style == "list":
        return lib.Model([a, b], [priority, department])
    return lib.Model([a, b], {"priority": priority, "department": department})


@pytest.mark.parametrize("style", ["dict", "list"])
def test_multi_input_multi_output_losses_and_weights_match_keras(keras, style):
    rng = np.random.default_rng(2)
    xa, xb = rng.standard_normal((40, 6)).astype("float32"), rng.standard_normal((40, 4)).astype("float32")
    y_p = rng.integers(0, 2, (40, 1)).astype("float32")
    y_d = np.eye(4, dtype="float32")[rng.integers(0, 4, 40)]
    histories, models, initial = [], [], None
    for lib in (keras, keraslike):
        model = _ticket_like(lib, style)
        if initial is None:
            initial = model.get_weights()
        else:
            model.set_weights(initial)
        if style == "dict":
            loss = {
                "priority": lib.losses.BinaryCrossentropy(from_logits=True),
                "department": lib.losses.CategoricalCrossentropy(from_logits=True),
            }
            loss_weights = {"priority": 1.0, "department": 0.2}
            targets = {"priority": y_p, "department": y_d}
            inputs = {"a": xa, "b": xb}
        else:
            loss = [lib.losses.BinaryCrossentropy(from_logits=True), lib.losses.CategoricalCrossentropy(from_logits=True)]
            loss_weights = [1.0, 0.2]
            targets = [y_p, y_d]
            inputs = [xa, xb]
        metrics = {"department": ["accuracy"]} if style == "dict" else [[], ["accuracy"]]
        model.compile(optimizer=lib.optimizers.RMSprop(1e-3), loss=loss, loss_weights=loss_weights,
                      metrics=metrics)
        histories.append(model.fit(inputs, targets, epochs=2, batch_size=8, shuffle=False, verbose=0).history)
        models.append(model)
    theirs, ours = histories
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        # An accuracy may differ by one sample whose logits are within float noise of a tie.
        atol = 1.0 / 40 + 1e-6 if "accuracy" in key else 1e-6
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=atol, err_msg=key)
    assert models[1].evaluate(inputs, targets, verbose=0) == pytest.approx(
        models[0].evaluate(inputs, targets, verbose=0), rel=1e-4
    )
