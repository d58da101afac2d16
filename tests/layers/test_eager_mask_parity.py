"""Eager masks and nested numpy arguments in subclassed models, against Keras 3 (the oracle)."""

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

_TOKENS = np.array([[5, 3, 0, 0], [2, 7, 9, 0], [1, 0, 0, 0]])


def _model(lib, head):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.embedding = lib.layers.Embedding(10, 4, mask_zero=True)
            self.head = head(lib)

        def call(self, x):
            return self.head(self.embedding(x))

    return Net()


_HEADS = {
    "lstm": lambda lib: lib.layers.LSTM(3),
    "gru": lambda lib: lib.layers.GRU(3, return_sequences=True),
    "bidirectional": lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(2)),
    "gap": lambda lib: lib.layers.GlobalAveragePooling1D(),
    "mha": lambda lib: _SelfAttention(lib),
}


def _SelfAttention(lib):
    class SelfAttention(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.mha = lib.layers.MultiHeadAttention(num_heads=2, key_dim=2)

        def call(self, x):
            return self.mha(x, x)

    return SelfAttention()


@pytest.mark.parametrize("head", sorted(_HEADS))
def test_subclassed_eager_mask_chain_equals_keras(head):
    ours, theirs = _model(keraslike, _HEADS[head]), _model(keras, _HEADS[head])
    theirs(_TOKENS)
    ours(_TOKENS)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(
        keraslike.ops.convert_to_numpy(ours(_TOKENS)),
        keras.ops.convert_to_numpy(theirs(_TOKENS)), rtol=1e-5, atol=1e-6)


def test_subclassed_eager_mask_chain_fit_losses_equal_keras():
    y = np.array([[0.1, 0.2, 0.3], [0.0, -0.1, 0.5], [0.3, 0.3, 0.3]], "float32")
    losses = []
    for lib in (keraslike, keras):
        model = _model(lib, _HEADS["lstm"])
        model(_TOKENS)
        if lib is keras:
            model.set_weights(weights)
        else:
            weights = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="mse")
        history = model.fit(_TOKENS, y, batch_size=3, epochs=3, verbose=0, shuffle=False)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_nested_numpy_arguments_become_tensors():
    class Net(keraslike.Model):
        def __init__(self):
            super().__init__()
            self.dense = keraslike.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs["a"]) * inputs["b"][0]

    a = np.ones((2, 3), "float64")
    b = np.full((2, 2), 2.0)
    out = Net()({"a": a, "b": [b]})
    assert out.dtype == keraslike.ops.convert_to_tensor(np.ones(1, "float32")).dtype
    assert out.shape == (2, 2)
