"""`fit(PyDataset)` visits the batches in a new random order each epoch when `shuffle` is on
(Keras's PyDataset adapter does, with Python's `random`, after one more shuffled pass it reads
its build batch from on the first fit after compile); evaluation and validation keep the
dataset's order."""

import random

import numpy as np
import pytest

import keraslike

_X = np.random.default_rng(0).random((40, 6)).astype("float32")
_Y = (np.random.default_rng(1).random((40, 1)) > 0.5).astype("float32")


def _dataset(lib, order):
    class Batches(lib.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            order.append(i)
            return _X[i * 8 : (i + 1) * 8], _Y[i * 8 : (i + 1) * 8]

    return Batches()


def _model(lib):
    model = lib.Sequential([lib.Input((6,)), lib.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def _epochs(order):
    # Drop a first-batch peek (reading batch 0 to build the model), keep the 5-batch passes.
    extra = len(order) % 5
    return [order[i : i + 5] for i in range(extra, len(order), 5)]


def test_fit_shuffles_a_py_dataset_each_epoch_with_pythons_random():
    model = _model(keraslike)
    order = []
    keraslike.utils.set_random_seed(7)
    model.fit(_dataset(keraslike, order), epochs=3, verbose=0)
    random.seed(7)
    expected = []
    for _ in range(4):  # the pass Keras reads its build batch from, then the 3 epochs
        indices = list(range(5))
        random.shuffle(indices)
        expected.append(indices)
    assert _epochs(order) == expected[1:]
    assert len({tuple(e) for e in expected}) > 1  # the orders change from epoch to epoch

    # A second fit (model, loss and metrics built): no build pass, as Keras.
    order.clear()
    keraslike.utils.set_random_seed(7)
    model.fit(_dataset(keraslike, order), epochs=1, verbose=0)
    assert _epochs(order) == expected[:1]


@pytest.mark.parametrize("shuffle", [False, "false"])
def test_fit_without_shuffle_keeps_the_order(shuffle):
    order = []
    _model(keraslike).fit(_dataset(keraslike, order), epochs=2, verbose=0, shuffle=shuffle)
    assert _epochs(order) == [[0, 1, 2, 3, 4]] * 2


def test_validation_and_evaluate_keep_the_order():
    model, train_order, val_order = _model(keraslike), [], []
    model.fit(_dataset(keraslike, train_order), validation_data=_dataset(keraslike, val_order),
              epochs=2, verbose=0)
    assert _epochs(val_order) == [[0, 1, 2, 3, 4]] * 2
    order = []
    model.evaluate(_dataset(keraslike, order), verbose=0)
    assert _epochs(order) == [[0, 1, 2, 3, 4]]


def test_shuffled_py_dataset_training_matches_keras():
    keras = pytest.importorskip("keras")
    theirs, ours = _model(keras), _model(keraslike)
    ours.set_weights(theirs.get_weights())
    keras.utils.set_random_seed(3)
    expected = theirs.fit(_dataset(keras, []), epochs=3, verbose=0).history["loss"]
    keraslike.utils.set_random_seed(3)
    result = ours.fit(_dataset(keraslike, []), epochs=3, verbose=0).history["loss"]
    np.testing.assert_allclose(result, expected, rtol=1e-6)
