"""`keras.RematScope`: which layer calls are rematerialized (torch.utils.checkpoint), and that
values and gradients do not change."""

import numpy as np
import pytest
import torch
import torch.utils.checkpoint

import keraslike as keras


@pytest.fixture
def checkpoints(monkeypatch):
    """Counts `torch.utils.checkpoint.checkpoint` calls (what `keras.remat` runs under grad)."""
    calls = []
    original = torch.utils.checkpoint.checkpoint

    def counting(fn, *args, **kwargs):
        calls.append(getattr(fn, "__name__", repr(fn)))
        return original(fn, *args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    return calls


def _mlp():
    inputs = keras.Input((8,))
    x = keras.layers.Dense(64, activation="relu", name="wide")(inputs)
    x = keras.layers.Dense(4, name="narrow")(x)
    return keras.Model(inputs, x)


def _grads(model, x):
    model.zero_grad()
    out = model(x, training=True)
    out.pow(2).sum().backward()
    return out.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("mode,kwargs,expected", [
    ("full", {}, 2),  # each Dense (a Model's own call is not wrapped: its layers are)
    ("list_of_layers", {"layer_names": ["narrow"]}, 1),
    ("activations", {}, 1),  # only "wide" has an activation
    ("larger_than", {"output_size_threshold": 1000}, 1),  # wide: 32 * 64 elements; narrow 128
    (None, {}, 0),
])
def test_modes_choose_calls_and_keep_values_and_gradients(checkpoints, mode, kwargs, expected):
    torch.manual_seed(0)
    plain = _mlp()
    with keras.RematScope(mode=mode, **kwargs):
        scoped = _mlp()
    scoped.set_weights(plain.get_weights())
    x = torch.randn(32, 8)
    out_plain, grads_plain = _grads(plain, x)
    assert checkpoints == []
    out_scoped, grads_scoped = _grads(scoped, x)
    assert len(checkpoints) == expected, checkpoints
    torch.testing.assert_close(out_scoped, out_plain)
    for a, b in zip(grads_scoped, grads_plain):
        torch.testing.assert_close(a, b)


def test_mode_is_fixed_when_the_layer_is_created(checkpoints):
    outside = keras.layers.Dense(3)
    with keras.RematScope("full"):
        inside = keras.layers.Dense(3)
        with keras.RematScope(None):
            disabled = keras.layers.Dense(3)
    x = torch.randn(2, 5)
    with keras.RematScope("full"):
        outside(x).sum().backward()
    assert checkpoints == []
    inside(x).sum().backward()
    disabled(x).sum().backward()
    assert len(checkpoints) == 1


def test_no_recomputation_without_gradients(checkpoints):
    with keras.RematScope("full"):
        layer = keras.layers.Dense(3)
    with torch.no_grad():
        layer(torch.randn(2, 5))
    assert checkpoints == []


def test_fit_with_remat_trains_like_without():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8)).astype("float32")
    y = rng.standard_normal((32, 4)).astype("float32")
    losses = []
    for mode in (None, "full"):
        keras.utils.set_random_seed(1)
        with keras.RematScope(mode):
            model = _mlp()
        model.compile(optimizer="sgd", loss="mse")
        losses.append(model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                                shuffle=False).history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-6)


def test_invalid_mode_is_a_value_error():
    with pytest.raises(ValueError, match="Invalid mode 'everything'"):
        keras.RematScope("everything")
