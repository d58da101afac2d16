"""The built-in steps give the model `training=` only when its `call` takes it, as Keras 3's
trainer does: a subclassed model whose `call(self, x)` has no `training` argument runs `fit`
with its Dropout and BatchNormalization in inference mode (each layer's own default), and its
augmentation layers active in `evaluate`. keraslike trained them in training mode (different
losses, moving statistics updated where Keras leaves them)."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _run(lib, takes_training, initial=None):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(4)
            self.drop = lib.layers.Dropout(0.9)
            self.norm = lib.layers.BatchNormalization()
            self.out = lib.layers.Dense(1)

        def _forward(self, x, **kwargs):
            return self.out(self.norm(self.drop(self.dense(x), **kwargs), **kwargs))

    if takes_training:
        class Model(Net):
            def call(self, x, training=None):
                return self._forward(x, training=training)
    else:
        class Model(Net):
            def call(self, x):
                return self._forward(x)

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), np.ones((8, 1), "float32")
    model = Model()
    model(x)
    if initial is not None:
        model.set_weights(initial)
    start = [np.array(w) for w in model.get_weights()]
    model.compile(lib.optimizers.SGD(0.1), "mse")
    losses = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    return start, losses, [np.array(w) for w in model.norm.non_trainable_weights]


def test_model_without_training_argument_trains_like_keras():
    start, expected, their_moving = _run(keras, takes_training=False)
    _, losses, our_moving = _run(keraslike, takes_training=False, initial=start)
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    for ours, theirs in zip(our_moving, their_moving):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)  # untouched, as in Keras


def test_model_with_training_argument_still_trains_in_training_mode():
    _, losses, moving = _run(keraslike, takes_training=True)
    assert not np.allclose(moving[0], 0.0)  # the moving mean was updated
    assert keraslike.trainers.step_state.passes_training(keraslike.Sequential([keraslike.layers.Dense(1)]))
