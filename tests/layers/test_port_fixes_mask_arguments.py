"""Keras's rules for which `call` arguments receive attached masks, checked against Keras 3.

Keras fills an unset `mask` argument from the first argument's masks only when the call has
exactly one tensor argument, and an unset `x_mask` from the masks of `x` only when it has
several. A decoder `call(self, inputs, encoder_outputs, mask=None)` therefore gets no mask
(found porting keras-io's text_generation_fnet: keraslike passed the padding mask, a silently
different number), and a `call(self, query, value=None, query_mask=None)` inside a functional
model gets its `query_mask` (keraslike recorded none there).
"""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

TOKENS = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 0, 0]])


def _probe_layers(lib, seen):
    layers = lib.layers

    class Two(layers.Layer):
        def call(self, inputs, other, mask=None):
            seen.append(("two", mask is not None))
            return inputs + other

    class One(layers.Layer):
        def call(self, inputs, mask=None):
            seen.append(("one", mask is not None))
            return inputs

    class QueryValue(layers.Layer):
        def call(self, query, value=None, query_mask=None, value_mask=None):
            seen.append(("query_value", query_mask is not None, value_mask is not None))
            return query

    return Two, One, QueryValue


def _masks_seen(lib):
    """(symbolic calls, the model's run, eager calls): which mask arguments each call received."""
    seen = []
    Two, One, QueryValue = _probe_layers(lib, seen)
    layers = lib.layers
    tokens = layers.Input((5,), dtype="int32")
    embedded = layers.Embedding(10, 4, mask_zero=True)(tokens)
    outputs = [Two()(embedded, embedded), One()(embedded), QueryValue()(embedded), QueryValue()(embedded, embedded)]
    model = lib.Model(tokens, outputs)
    symbolic = sorted(seen)
    seen.clear()
    model.predict(TOKENS, verbose=0)
    in_model = sorted(seen)
    seen.clear()
    x = layers.Embedding(10, 4, mask_zero=True)(TOKENS)
    Two()(x, x)
    One()(x)
    QueryValue()(x)
    QueryValue()(x, x)
    return symbolic, in_model, sorted(seen)


def test_mask_arguments_follow_keras_rules_symbolic_in_model_and_eager():
    expected = _masks_seen(keras)
    assert ("two", False) in expected[2] and ("query_value", True, True) in expected[2]
    assert _masks_seen(keraslike) == expected


def _decoder_outputs(lib, weights=None):
    """A decoder layer called on two tensors, whose padding-mask branch runs only when a mask
    reaches it (the keras-io FNet / NMT decoders), inside a functional model."""
    layers = lib.layers
    ops = lib.ops

    class Decoder(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
            self.supports_masking = True

        def call(self, inputs, encoder_outputs, mask=None):
            padding_mask = None if mask is None else ops.cast(ops.expand_dims(mask, 1), "int32")
            return self.attention(inputs, encoder_outputs, attention_mask=padding_mask)

    tokens = layers.Input((None,), dtype="int32")
    encoded = layers.Input((None, 4))
    embedded = layers.Embedding(10, 4, mask_zero=True)(tokens)
    model = lib.Model([tokens, encoded], Decoder()(embedded, encoded))
    if weights is not None:
        model.set_weights(weights)
    encoded_values = np.linspace(-1, 1, 2 * 5 * 4, dtype="float32").reshape(2, 5, 4)
    return model, np.asarray(model.predict([TOKENS, encoded_values], verbose=0))


def test_two_tensor_decoder_gets_no_mask_and_computes_kerass_numbers():
    """Compared at the unpadded positions: at the padded ones the inner attention's query mask
    masks every key: keraslike's output there is the exact uniform average over the keys,
    Keras's fused attention (torch backend) a value ~1e-3 away from it.
    Before the fix every position differed by ~0.5 (the padding mask was applied)."""
    theirs, expected = _decoder_outputs(keras)
    _, got = _decoder_outputs(keraslike, [np.asarray(w) for w in theirs.get_weights()])
    valid = TOKENS != 0
    np.testing.assert_allclose(got[valid], expected[valid], rtol=1e-5, atol=1e-6)


def test_one_tensor_call_still_gets_its_mask_eagerly_and_in_a_model():
    seen = []
    _, One, _ = _probe_layers(keraslike, seen)
    layers = keraslike.layers
    tokens = layers.Input((5,), dtype="int32")
    model = keraslike.Model(tokens, One()(layers.Embedding(10, 4, mask_zero=True)(tokens)))
    seen.clear()
    model(TOKENS)
    One()(layers.Embedding(10, 4, mask_zero=True)(TOKENS))
    assert seen == [("one", True), ("one", True)]
