"""Parity checks of recurrent layers against Keras 3, with call arguments (mask, initial_state).

Extends `tests/layer_harness.py::check_layer` for what RNNs take: a `mask`, an `initial_state`
list, `training`, wrapped layers (`Bidirectional(LSTM(...))`), several calls (stateful).
"""

import numpy as np
import pytest
import torch

import keraslike
from tests.layer_harness import _flat, _to_numpy, assert_configs_equal


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny recurrences: one thread (on a busy 2-core machine, thread hand-offs at every step
    make a 6-step LSTM take 100x longer)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build_pair(make):
    """`make(lib)` builds the layer from `lib.layers`; returns (keras layer, our layer)."""
    keras = pytest.importorskip("keras")
    keras.backend.clear_session(free_memory=False)
    keraslike.backend.clear_session(free_memory=False)
    return make(keras), make(keraslike)


def call_both(keras_layer, our_layer, x, mask=None, initial_state=None, training=None, copy=True):
    """Calls both layers on the same data (our layer built first so Keras's weights fit)."""
    keras = pytest.importorskip("keras")

    def kwargs(convert):
        out = {}
        if mask is not None:
            out["mask"] = convert(mask)
        if initial_state is not None:
            out["initial_state"] = [convert(s) for s in initial_state]
        if training is not None:
            out["training"] = training
        return out

    to_keras = keras.ops.convert_to_tensor
    keras_out = _to_numpy(keras_layer(to_keras(x), **kwargs(to_keras)))
    if copy:
        our_layer(torch.as_tensor(x), **kwargs(torch.as_tensor))
        our_layer.set_weights(keras_layer.get_weights())
    our_out = _to_numpy(our_layer(torch.as_tensor(x), **kwargs(torch.as_tensor)))
    return our_out, keras_out


def assert_outputs_close(ours, theirs, atol=1e-5, rtol=1e-5, what=""):
    ours, theirs = _flat(ours), _flat(theirs)
    assert len(ours) == len(theirs), f"{what}: {len(ours)} outputs, Keras {len(theirs)}"
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape, f"{what}: shape {a.shape} != Keras {b.shape}"
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=what)


def check_rnn(make, input_shape, mask=None, initial_state=None, training=None, seed=0,
              symbolic=True, config=True, atol=1e-5):
    """Builds `make(keras)` and `make(keraslike)`, copies weights, compares outputs, symbolic
    shapes and configs. `mask` is a numpy bool array; `initial_state` a list of arrays.

    Returns:
        `(our_layer, keras_layer, our_output, keras_output)`.
    """
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")
    keras_layer, our_layer = build_pair(make)
    ours, theirs = call_both(keras_layer, our_layer, x, mask, initial_state, training)
    what = type(our_layer).__name__
    assert_outputs_close(ours, theirs, atol=atol, rtol=atol, what=what)
    assert len(our_layer.get_weights()) == len(keras_layer.get_weights())
    for a, b in zip(our_layer.get_weights(), keras_layer.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-6)
    if symbolic:
        shape = (None,) + tuple(input_shape[1:])
        k_sym = keras_layer(keras.Input(batch_shape=shape))
        o_sym = our_layer(keraslike.Input(batch_shape=shape))
        k_flat, o_flat = _flat(k_sym), _flat(o_sym)
        assert len(k_flat) == len(o_flat)
        for a, b in zip(o_flat, k_flat):
            assert tuple(a.shape) == tuple(b.shape), f"{what}: symbolic {a.shape} != {b.shape}"
    if config:
        ours_config = our_layer.get_config()
        assert_configs_equal(ours_config, keras_layer.get_config())
        clone = type(our_layer).from_config(ours_config)
        assert_configs_equal(clone.get_config(), ours_config)
    return our_layer, keras_layer, ours, theirs


def right_padded(batch, steps, lengths):
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def left_padded(batch, steps, lengths):
    return np.arange(steps)[None, :] >= steps - np.asarray(lengths)[:, None]
