"""MultiHeadAttention / GroupedQueryAttention quantization against Keras 3 (the oracle).

Keras's attention layers project with EinsumDense sublayers, so `model.quantize(mode)` quantizes
the query/key/value/output projections; keraslike's `HeadProjection` must do the same, with the
same weights (names, shapes, dtypes, order, values) and outputs.
"""

import os
import warnings

import numpy as np
import pytest

import keraslike

os.environ.setdefault("KERAS_BACKEND", "torch")
keras3 = pytest.importorskip("keras")

MODES = ["int8", "int4", "float8"]


def _mha_pair(lib_a, lib_b, seed=0, attention_axes=None, gqa=False, shape=(4, 8)):
    """The same small attention model in two libraries, sharing float weights."""
    models = []
    for lib in (lib_a, lib_b):
        x = lib.Input(shape)
        if gqa:
            layer = lib.layers.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                                   num_key_value_heads=2, name="gqa")
        else:
            layer = lib.layers.MultiHeadAttention(2, 3, attention_axes=attention_axes,
                                                  name="mha")
        y = layer(x, x)
        models.append(lib.Model(x, y))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in models[0].get_weights()]
    for model in models:
        model.set_weights(weights)
    return models


def _paths(model):
    # `sublayer/weight` (keraslike's paths leave out the attention layer's own name, also for
    # float weights: a separate, pre-existing difference)
    return ["/".join(w.path.split("/")[-2:]) for w in model.weights]


def _inputs(shape=(4, 8), seed=1):
    return np.random.default_rng(seed).normal(size=(2,) + shape).astype("float32")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("gqa", [False, True])
def test_quantize_matches_keras(mode, gqa):
    ours, theirs = _mha_pair(keraslike, keras3, gqa=gqa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.quantize(mode)
        theirs.quantize(mode)
    assert _paths(ours) == _paths(theirs)
    ours_w, theirs_w = ours.get_weights(), theirs.get_weights()
    assert [w.shape for w in ours_w] == [w.shape for w in theirs_w]
    assert [str(w.dtype) for w in ours_w] == [str(w.dtype) for w in theirs_w]
    for a, b, path in zip(ours_w, theirs_w, _paths(ours)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=path)
    x = _inputs()
    got = np.asarray(ours.predict(x, verbose=0))
    want = keras3.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # the quantized model really differs from the float one (the projections were quantized)
    float_ours, _ = _mha_pair(keraslike, keras3, gqa=gqa)
    assert not np.allclose(np.asarray(float_ours.predict(x, verbose=0)), got, atol=1e-5)
