"""Subclasses of MultiHeadAttention that override Keras's attention steps are called through
them, as in Keras: keraslike's own call used to skip an overridden `_compute_attention` or
`_masked_softmax` silently (standard attention, different numbers). Compared with Keras 3 from
the same weights: eager and in a model, fit included."""

import math

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")


def _classes(lib):
    ops = lib.ops

    class LocalitySelfAttention(lib.layers.MultiHeadAttention):  # keras-io's vit_small_ds
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.tau = lib.Variable(math.sqrt(float(self._key_dim)), trainable=True)

        def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                               return_attention_scores=False):
            query = ops.multiply(query, 1.0 / self.tau)
            attention_scores = ops.einsum(self._dot_product_equation, key, query)
            attention_scores = self._masked_softmax(attention_scores, attention_mask)
            attention_scores_dropout = self._dropout_layer(attention_scores, training=training)
            attention_output = ops.einsum(self._combine_equation, attention_scores_dropout, value)
            return attention_output, attention_scores

    class SharpSoftmax(lib.layers.MultiHeadAttention):
        def _masked_softmax(self, attention_scores, attention_mask=None):
            return super()._masked_softmax(attention_scores * 3.0, attention_mask)

    return LocalitySelfAttention, SharpSoftmax


def _model(lib, cls, **kwargs):
    mask = lib.ops.cast([1 - lib.ops.eye(5)], "int8")
    inputs = lib.Input((5, 8))
    outputs = cls(num_heads=2, key_dim=4, **kwargs)(inputs, inputs, attention_mask=mask)
    return lib.Model(inputs, outputs)


@pytest.mark.parametrize("which,dropout", [(0, 0.0), (0, 0.1), (1, 0.1)])
def test_overridden_attention_steps_match_keras(which, dropout):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 8)).astype("float32")
    y = rng.normal(size=(4, 5, 8)).astype("float32")
    theirs = _model(keras, _classes(keras)[which], dropout=dropout)
    ours = _model(keraslike, _classes(keraslike)[which], dropout=dropout)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    weights = [np.array(w) for w in theirs.get_weights()]
    if which == 0:
        # The learnable temperature is the layer's first weight, as in Keras; its initial value
        # sqrt(key_dim) is the standard scaling, so another value tells the paths apart.
        assert weights[0].shape == () and np.isclose(weights[0], 2.0)
        weights[0] = np.array(3.0, "float32")
        theirs.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    plain = _model(keraslike, keraslike.layers.MultiHeadAttention, dropout=dropout)
    plain.set_weights(ours.get_weights()[1:] if which == 0 else ours.get_weights())
    assert not np.allclose(plain.predict(x, verbose=0), ours.predict(x, verbose=0), atol=1e-4)
    if dropout == 0.0:  # deterministic training: the whole trajectory
        for model in (theirs, ours):
            model.compile(optimizer="adam", loss="mse")
        expected = theirs.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0).history["loss"]
        losses = ours.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0).history["loss"]
        np.testing.assert_allclose(losses, expected, rtol=1e-5)
        np.testing.assert_allclose(ours.get_weights()[0], np.array(theirs.get_weights()[0]), rtol=1e-5)


def test_base_layer_keeps_keras_attributes_and_names():
    for lib in (keras, keraslike):
        layer = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.2, seed=3)
        x = np.ones((1, 3, 8), "float32")
        out, scores = layer(x, x, return_attention_scores=True)
        assert layer._dot_product_equation == "aecd,abcd->acbe", lib.__name__
        assert layer._combine_equation == "acbe,aecd->abcd"
        assert layer._softmax.axis == (3,) and layer._dropout_layer.rate == 0.2
        assert tuple(scores.shape) == (1, 2, 3, 3)
    assert not keraslike.layers.MultiHeadAttention._keras_attention_hooks
