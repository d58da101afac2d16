"""Idioms of Keras 3 training code that must run unchanged (each checked against Keras)."""

import keras as real_keras
import numpy as np
import pytest

import keraslike as keras

_X = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
_Y = np.eye(3, dtype="float32")[np.random.default_rng(1).integers(0, 3, 8)]


def _model(K, lr=0.1):
    x = K.Input((4,), name="inp")
    model = K.Model(x, {"out": K.layers.Dense(3, activation="softmax", name="out")(x)})
    model.set_weights([np.full((4, 3), 0.1, "float32"), np.zeros(3, "float32")])
    model.compile(optimizer=K.optimizers.SGD(lr), loss={"out": "categorical_crossentropy"})
    return model


def test_learning_rate_assign_in_a_callback_as_keras():
    histories = []
    for K in (keras, real_keras):
        class Halve(K.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                lr = self.model.optimizer.learning_rate
                lr.assign(lr * 0.5)

        model = _model(K)
        history = model.fit(_X, {"out": _Y}, epochs=3, batch_size=4, shuffle=False, verbose=0,
                            callbacks=[Halve()])
        histories.append((history.history["loss"], float(model.optimizer.learning_rate)))
    np.testing.assert_allclose(histories[0][0], histories[1][0], rtol=1e-5)
    assert histories[0][1] == pytest.approx(0.0125) == histories[1][1]
    assert keras.optimizers.Adam(0.01).learning_rate.path == "adam/learning_rate"


def test_a_one_entry_list_of_targets_for_a_single_dict_output():
    losses = [_model(K).fit(_X, [_Y], epochs=1, shuffle=False, verbose=0).history["loss"]
              for K in (keras, real_keras)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_class_weight_with_structured_targets_is_keras_s_value_error():
    with pytest.raises(ValueError, match="`class_weight` is only supported for Models with a single output"):
        _model(keras).fit(_X, {"out": _Y}, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)
