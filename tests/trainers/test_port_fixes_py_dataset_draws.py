"""A seeded `fit` on a `keras.utils.PyDataset` draws the dropout masks Keras draws.

Keras's torch backend reads a PyDataset through a new torch `DataLoader` iterator for the pass it
builds from, at the start of every pass and once more after a pass's last step; each new
iterator draws a base seed from torch's global generator. keraslike read the dataset directly
and drew nothing, so every later dropout mask differed from Keras's (found porting keras-io's
ctc_asr: its seeded losses differed from the first epoch).
"""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 5, 8)).astype("float32")
Y = RNG.normal(size=(12, 5, 1)).astype("float32")


def _fit(lib, shuffle, validation, predict_between):
    lib.utils.set_random_seed(1)

    class Batches(lib.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return X[index * 4 : (index + 1) * 4], Y[index * 4 : (index + 1) * 4]

    layers = lib.layers
    inputs = layers.Input((None, 8))
    outputs = layers.Dense(1)(layers.Dropout(0.5)(layers.Dense(16)(inputs)))
    model = lib.Model(inputs, outputs)
    model.compile("sgd", "mse")
    callbacks = []
    if predict_between:
        callbacks = [lib.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: model.predict(Batches(), verbose=0))]
    history = model.fit(Batches(), epochs=3, verbose=0, shuffle=shuffle, callbacks=callbacks,
                        validation_data=Batches() if validation else None)
    return history.history


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("validation, predict_between", [(False, False), (True, False), (False, True)])
def test_seeded_fit_on_py_dataset_with_dropout_equals_keras(shuffle, validation, predict_between):
    expected = _fit(keras, shuffle, validation, predict_between)
    got = _fit(keraslike, shuffle, validation, predict_between)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
