"""Under `keras.utils.set_random_seed`, layers start from Keras 3's initial weights.

Keras's unseeded initializers and `SeedGenerator`s each take a seed from Python's `random` when
they are made; keraslike takes the same seeds at the same points (layer construction, and the
sublayers a layer makes in `build`), so a seeded program's weights are Keras's, layer after layer.
"""

import random

import numpy as np
import pytest

import keraslike

keras = pytest.importorskip("keras")

# name -> (make the layer, the build arguments)
_LAYERS = {
    "Dense": (lambda L: L.Dense(3), ((None, 5),)),
    "Dense_random_bias": (lambda L: L.Dense(3, bias_initializer="random_normal"), ((None, 5),)),
    "Conv2D": (lambda L: L.Conv2D(2, 3), ((None, 8, 8, 3),)),
    "SeparableConv2D": (lambda L: L.SeparableConv2D(2, 3), ((None, 8, 8, 3),)),
    "Conv2DTranspose": (lambda L: L.Conv2DTranspose(2, 3), ((None, 8, 8, 3),)),
    "Embedding": (lambda L: L.Embedding(10, 4), ((None, 5),)),
    "LSTM": (lambda L: L.LSTM(4, dropout=0.2), ((None, 5, 3),)),
    "GRU": (lambda L: L.GRU(4), ((None, 5, 3),)),
    "SimpleRNN": (lambda L: L.SimpleRNN(4), ((None, 5, 3),)),
    "ConvLSTM2D": (lambda L: L.ConvLSTM2D(2, 3), ((None, 3, 6, 6, 2),)),
    "Bidirectional": (lambda L: L.Bidirectional(L.LSTM(4)), ((None, 5, 3),)),
    "MultiHeadAttention": (lambda L: L.MultiHeadAttention(2, 4, dropout=0.1), ((None, 3, 4), (None, 3, 4))),
    "GroupQueryAttention": (lambda L: L.GroupQueryAttention(4, 2, 2), ((None, 3, 4), (None, 3, 4))),
    "Dropout": (lambda L: L.Dropout(0.5), ((None, 5),)),
    "Dropout_rate_0": (lambda L: L.Dropout(0.0), ((None, 5),)),
    "GaussianNoise": (lambda L: L.GaussianNoise(0.1), ((None, 5),)),
    "AlphaDropout": (lambda L: L.AlphaDropout(0.1), ((None, 5),)),
    "EinsumDense": (lambda L: L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c"), ((None, 5),)),
}


def _draws_taken(seed, marker):
    """How many seeds (`randint(1, 1e9)`, Keras's `make_default_seed`) were taken from Python's
    `random`, seeded with `seed`, before a `random()` that gave `marker`."""
    for taken in range(40):
        reference = random.Random(seed)
        for _ in range(taken):
            reference.randint(1, int(1e9))
        if reference.random() == marker:
            return taken
    raise AssertionError("more than 40 seeds taken")


def _stream_positions(library, make, build_args):
    """(seeds taken from Python's `random` making the layer, seeds taken building it)."""
    random.seed(123)
    layer = make(library.layers)
    made = _draws_taken(123, random.random())
    random.seed(321)
    layer.build(*build_args)
    return made, _draws_taken(321, random.random())


@pytest.mark.parametrize("name", sorted(_LAYERS))
def test_layers_take_keras_seeds_from_python_random(name):
    make, build_args = _LAYERS[name]
    assert _stream_positions(keraslike, make, build_args) == _stream_positions(keras, make, build_args)


def _models(library):
    L = library.layers

    def convolutional():
        i = library.Input((8, 8, 3))
        x = L.Conv2D(4, 3, activation="relu")(i)
        x = L.BatchNormalization()(x)
        x = L.DepthwiseConv2D(3)(x)
        x = L.SeparableConv2D(4, 3)(x)
        x = L.Dropout(0.3)(L.Flatten()(x))
        return library.Model(i, L.Dense(2)(x))

    def recurrent():
        i = library.Input((5,), dtype="int32")
        x = L.LSTM(4, return_sequences=True)(L.Embedding(20, 6)(i))
        x = L.Bidirectional(L.GRU(3))(x)
        return library.Model(i, L.Dense(3, kernel_initializer="he_normal", bias_initializer="random_normal")(x))

    def attention():
        i = library.Input((4, 6))
        x = L.LayerNormalization()(L.MultiHeadAttention(2, 3, dropout=0.1)(i, i))
        x = L.GaussianNoise(0.1)(L.SimpleRNN(3)(x))
        return library.Model(i, L.Dense(2, kernel_initializer="orthogonal")(x))

    def conv_recurrent():
        i = library.Input((3, 6, 6, 2))
        x = L.Conv2DTranspose(2, 3)(L.ConvLSTM2D(2, 3)(i))
        x = L.Dense(2, kernel_initializer="lecun_uniform")(L.GlobalAveragePooling2D()(x))
        return library.Model(i, L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")(x))

    return {"convolutional": convolutional, "recurrent": recurrent, "attention": attention,
            "conv_recurrent": conv_recurrent}


@pytest.mark.parametrize("name", ["convolutional", "recurrent", "attention", "conv_recurrent"])
def test_seeded_models_start_from_keras_weights(name):
    keras.utils.set_random_seed(7)
    expected = _models(keras)[name]().get_weights()
    keraslike.utils.set_random_seed(7)
    got = _models(keraslike)[name]().get_weights()
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def _seeded_fit(library):
    library.utils.set_random_seed(1)
    x = np.random.default_rng(0).random((40, 6)).astype("float32")
    y = (x.sum(1) > 3).astype("float32")
    inputs = library.Input((6,))
    hidden = library.layers.Dropout(0.2)(library.layers.Dense(4, activation="relu")(inputs))
    model = library.Model(inputs, library.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.25)
    return history.history


def test_a_seeded_program_trains_to_keras_numbers_without_copying_weights():
    # Initial weights, shuffled batches and dropout masks all from the one seed.
    expected, got = _seeded_fit(keras), _seeded_fit(keraslike)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
