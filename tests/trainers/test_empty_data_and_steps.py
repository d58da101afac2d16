"""No data, bad step counts, and `steps_per_epoch` on in-memory data (Keras 3's semantics)."""

import warnings

import numpy as np
import pytest

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _model(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, kernel_initializer="ones")])
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    return model


def _data(n=10):
    x = np.arange(n * 3, dtype="float32").reshape(n, 3) / (3 * n)
    y = np.arange(n * 2, dtype="float32").reshape(n, 2) / (2 * n)
    return x, y


def _empty_generator():
    return
    yield


def test_no_samples_is_a_value_error_naming_the_method():
    model = _model(keraslike)
    x, y = np.zeros((0, 3), "float32"), np.zeros((0, 2), "float32")
    with pytest.raises(ValueError, match=r"`fit` received no samples.*\(0, 3\)"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="`evaluate` received no samples"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match="`evaluate` received no samples"):
        model.evaluate(x, y, verbose=0, return_dict=True)
    with pytest.raises(ValueError, match="`predict` received no samples"):
        model.predict(x, verbose=0)
    xv, yv = _data(4)
    with pytest.raises(ValueError, match="`validation_data` received no samples"):
        model.fit(xv, yv, validation_data=(x, y), verbose=0)


def test_empty_generator_is_a_value_error():
    model = _model(keraslike)
    with pytest.raises(ValueError, match="`fit` must yield at least one batch.*empty generator"):
        model.fit(_empty_generator(), verbose=0)
    with pytest.raises(ValueError, match="`evaluate` must yield at least one batch"):
        model.evaluate(_empty_generator(), verbose=0)
    with pytest.raises(ValueError, match="`fit` must yield at least one batch.*empty list"):
        model.fit([], verbose=0)


@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_bad_step_counts_name_the_argument(steps):
    model = _model(keraslike)
    x, y = _data()

    def endless():
        while True:
            yield x[:2], y[:2]

    with pytest.raises(ValueError, match=rf"`steps_per_epoch` must be a positive integer.*steps_per_epoch={steps!r}"):
        model.fit(x, y, steps_per_epoch=steps, verbose=0)
    with pytest.raises(ValueError, match="`steps_per_epoch` must be a positive integer"):
        model.fit(endless(), steps_per_epoch=steps, verbose=0)
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        model.evaluate(x, y, steps=steps, verbose=0)
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        model.predict(x, steps=steps, verbose=0)
    with pytest.raises(ValueError, match="`validation_steps` must be a positive integer"):
        model.fit(x, y, validation_data=(x, y), validation_steps=steps, verbose=0)


def _run(lib, **fit_kwargs):
    lib.utils.set_random_seed(0)
    model = _model(lib)
    counts = []

    class Count(lib.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            counts.append(0)

        def on_train_batch_end(self, batch, logs=None):
            counts[-1] += 1

    x, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, y, epochs=4, shuffle=False, verbose=0, callbacks=[Count()], **fit_kwargs)
    return counts, history.history["loss"], [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("kwargs, expected_counts", [
    # 5 batches a pass: an epoch of 3 steps, then the 2 left in the pass, then a new pass.
    (dict(batch_size=2, steps_per_epoch=3), [3, 2, 3, 2]),
    # No batch_size: ceil(10 / 3) = 4 samples a batch, 3 batches a pass.
    (dict(steps_per_epoch=3), [3, 3, 3, 3]),
    (dict(batch_size=4, steps_per_epoch=2), [2, 1, 2, 1]),
    # More steps than batches: each epoch stops at the end of the data.
    (dict(batch_size=2, steps_per_epoch=7), [5, 5, 5, 5]),
])
def test_steps_per_epoch_on_arrays_matches_keras(keras, kwargs, expected_counts):
    counts, losses, weights = _run(keraslike, **kwargs)
    assert counts == expected_counts
    k_counts, k_losses, k_weights = _run(keras, **kwargs)
    assert k_counts == expected_counts
    np.testing.assert_allclose(losses, k_losses, rtol=1e-5)
    for ours, theirs in zip(weights, k_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_steps_per_epoch_that_runs_out_warns_like_keras():
    model = _model(keraslike)
    x, y = _data()
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(x, y, batch_size=2, steps_per_epoch=7, verbose=0)


def test_evaluate_and_predict_steps_on_arrays_match_keras(keras):
    x, y = _data()
    for lib in (keraslike, keras):
        lib.utils.set_random_seed(0)
    ours, theirs = _model(keraslike), _model(keras)
    assert ours.predict(x, batch_size=2, steps=2, verbose=0).shape == (4, 2)
    assert theirs.predict(x, batch_size=2, steps=2, verbose=0).shape == (4, 2)
    np.testing.assert_allclose(
        ours.evaluate(x, y, batch_size=2, steps=2, verbose=0),
        theirs.evaluate(x, y, batch_size=2, steps=2, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(
        ours.evaluate(x, y, batch_size=2, steps=2, verbose=0),
        ours.evaluate(x[:4], y[:4], verbose=0), rtol=1e-6)


def test_validation_steps_restart_at_each_validation():
    x, y = _data()
    model = _model(keraslike)
    history = model.fit(x, y, epochs=3, shuffle=False, validation_data=(x, y), validation_steps=1,
                        validation_batch_size=2, verbose=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    # Every validation saw the first 2 samples only (a continuing pass would see others).
    weights = model.get_weights()
    assert np.isfinite(history.history["val_loss"]).all()
    model.set_weights(weights)
    np.testing.assert_allclose(
        history.history["val_loss"][-1], model.evaluate(x[:2], y[:2], verbose=0)[0], rtol=1e-6)
