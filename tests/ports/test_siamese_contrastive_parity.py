"""The vision_siamese_contrastive port's loss gap against Keras is initialization only: from
Keras's initial weights (copied in), the example's model (shared tower, Lambda distance,
BatchNormalization, custom contrastive loss, RMSprop) trains the same numbers as Keras 3."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _model(lib):
    ops, layers = lib.ops, lib.layers

    def euclidean_distance(vects):
        x, y = vects
        return ops.sqrt(ops.maximum(ops.sum(ops.square(x - y), axis=1, keepdims=True), lib.backend.epsilon()))

    image = layers.Input((28, 28, 1))
    x = layers.BatchNormalization()(image)
    x = layers.AveragePooling2D(pool_size=(2, 2))(layers.Conv2D(4, (5, 5), activation="tanh")(x))
    x = layers.AveragePooling2D(pool_size=(2, 2))(layers.Conv2D(16, (5, 5), activation="tanh")(x))
    x = layers.Dense(10, activation="tanh")(layers.BatchNormalization()(layers.Flatten()(x)))
    tower = lib.Model(image, x)
    first, second = layers.Input((28, 28, 1)), layers.Input((28, 28, 1))
    distance = layers.Lambda(euclidean_distance, output_shape=(1,))([tower(first), tower(second)])
    model = lib.Model([first, second], layers.Dense(1, activation="sigmoid")(layers.BatchNormalization()(distance)))

    def contrastive_loss(y_true, y_pred):
        return ops.mean((1 - y_true) * ops.square(y_pred) + y_true * ops.square(ops.maximum(1 - y_pred, 0)))

    model.compile(loss=contrastive_loss, optimizer="RMSprop", metrics=["accuracy"])
    return model


def _pairs(rng, n):
    base = rng.random((n, 28, 28)).astype("float32")
    labels = rng.integers(0, 2, size=(n,)).astype("float32")
    other = np.where(labels[:, None, None] == 0, base + 0.05 * rng.random((n, 28, 28)), rng.random((n, 28, 28)))
    return base, other.astype("float32"), labels


@pytest.mark.slow
def test_siamese_model_trains_like_keras_from_the_same_weights():
    rng = np.random.default_rng(0)
    (a, b, y), (va, vb, vy) = _pairs(rng, 32), _pairs(rng, 16)
    theirs, ours = _model(keras), _model(keraslike)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    fit = dict(validation_data=([va, vb], vy), batch_size=16, epochs=2, verbose=0, shuffle=False)
    expected, result = theirs.fit([a, b], y, **fit).history, ours.fit([a, b], y, **fit).history
    assert sorted(result) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(result[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=key)
