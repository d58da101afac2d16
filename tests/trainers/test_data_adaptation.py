"""Data adapted to the model's inputs as Keras adapts it (dtype of each Input, a trailing axis
of size 1 added or squeezed), side by side with Keras 3.15."""

import numpy as np
import pytest
import torch

import keraslike


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _fit_both(keras, build, x, y, loss="categorical_crossentropy", **fit_kwargs):
    results = {}
    initial = None
    for name, lib in (("keraslike", keraslike), ("keras", keras)):
        model = build(lib)
        if initial is None:
            initial = [w.copy() for w in model.get_weights()]
        else:
            model.set_weights(initial)
        model.compile(lib.optimizers.SGD(0.1), loss)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, **fit_kwargs).history
        results[name] = (history["loss"], model.predict(x, verbose=0))
    np.testing.assert_allclose(results["keraslike"][0], results["keras"][0], rtol=1e-4)
    np.testing.assert_allclose(results["keraslike"][1], results["keras"][1], rtol=1e-4, atol=1e-5)


def _one_hot_bools(shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    return np.eye(classes, dtype=bool)[rng.integers(0, classes, shape)]


def test_bool_one_hot_arrays_into_dense(keras):
    x = _one_hot_bools((16, 3), 5).reshape(16, 15)
    y = _one_hot_bools((16,), 3)

    def build(lib):
        inputs = lib.Input((15,))
        return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(inputs))

    _fit_both(keras, build, x, y)


def test_bool_one_hot_sequences_into_lstm(keras):
    x = _one_hot_bools((16, 6), 4)  # (16, 6, 4) booleans
    y = _one_hot_bools((16,), 3)

    def build(lib):
        inputs = lib.Input((6, 4))
        hidden = lib.layers.LSTM(5)(inputs)
        return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(hidden))

    _fit_both(keras, build, x, y)


@pytest.mark.parametrize("data_shape, input_shape", [((16, 6, 6), (6, 6, 1)), ((16, 6, 6, 1), (6, 6))])
def test_trailing_axis_of_one_is_added_or_squeezed(keras, data_shape, input_shape):
    rng = np.random.default_rng(1)
    x = rng.random(data_shape).astype("float32")
    y = rng.random((16, 2)).astype("float32")

    def build(lib):
        inputs = lib.Input(input_shape)
        return lib.Model(inputs, lib.layers.Dense(2)(lib.layers.Flatten()(inputs)))

    _fit_both(keras, build, x, y, loss="mse")


def test_a_rank_mismatch_that_is_not_a_trailing_one_names_the_input():
    inputs = keraslike.Input((6, 6, 2), name="image")
    model = keraslike.Model(inputs, keraslike.layers.Flatten()(inputs))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r'Input "image".*\(None, 6, 6, 2\).*\(4, 6, 6\)'):
        model.fit(np.zeros((4, 6, 6), "float32"), np.zeros((4, 72), "float32"), verbose=0)


def test_iterable_batches_are_adapted_too():
    x = torch.from_numpy(_one_hot_bools((16, 3), 5).reshape(16, 15))
    y = torch.from_numpy(_one_hot_bools((16,), 3)).float()
    inputs = keraslike.Input((15,))
    model = keraslike.Model(inputs, keraslike.layers.Dense(3, activation="softmax")(inputs))
    model.compile("sgd", "categorical_crossentropy")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    history = model.fit(loader, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_class_weight_missing_classes_weigh_one(keras):
    rng = np.random.default_rng(2)
    x = rng.random((16, 4)).astype("float32")
    y = rng.integers(0, 3, 16)

    def build(lib):
        inputs = lib.Input((4,))
        return lib.Model(inputs, lib.layers.Dense(3)(inputs))

    _fit_both(keras, build, x, y, loss="sparse_categorical_crossentropy", class_weight={0: 2.0, 2: 0.5})


def test_class_weight_with_sample_weight_is_refused():
    inputs = keraslike.Input((4,))
    model = keraslike.Model(inputs, keraslike.layers.Dense(3)(inputs))
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(np.zeros((4, 4), "float32"), np.zeros(4, "int64"), class_weight={0: 1.0},
                  sample_weight=np.ones(4, "float32"), verbose=0)
