"""A one-shot generator that runs out stops training with Keras's warning (no silent empty or
repeated epochs). Keras replays the generator's first two batches in later passes; keraslike
documents that it does not (docs/porting.md)."""

import numpy as np
import pytest

import keraslike as keras

_X = np.arange(80, dtype="float32").reshape(20, 4) / 80
_Y = np.ones((20, 1), "float32")


def _generator():
    for i in range(4):
        yield _X[i * 5:(i + 1) * 5], _Y[i * 5:(i + 1) * 5] * i


def _fit(**kwargs):
    batches = []

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            batches.append(0)

        def on_train_batch_end(self, batch, logs=None):
            batches[-1] += 1

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mae")
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(_generator(), verbose=0, callbacks=[Count()], **kwargs)
    return model, history, batches


def test_an_exhausted_generator_stops_training_after_its_one_pass():
    model, history, batches = _fit(epochs=4)
    assert batches == [4, 0]
    assert len(history.history["loss"]) == 1
    reference = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer="ones")])
    reference.compile(optimizer=keras.optimizers.SGD(0.01), loss="mae")
    reference.fit(_generator(), epochs=1, verbose=0)
    for ours, once in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, once)


@pytest.mark.parametrize("steps, expected", [(3, [3, 1]), (2, [2, 2, 0]), (4, [4, 0])])
def test_steps_per_epoch_past_the_generator_stops_where_it_runs_out(steps, expected):
    _, history, batches = _fit(epochs=3, steps_per_epoch=steps)
    assert batches == expected
    assert len(history.history["loss"]) == sum(1 for b in expected if b)
