"""`autocast=False` under a mixed precision policy, as in Keras 3: the layer's inputs are not
cast, its float32 weights are used uncast inside a model, so it computes in float32; symbolic
and eager dtypes, values, `predict` and a short `fit` compared with Keras."""

import numpy as np
import pytest
import torch

import keraslike

X = np.random.default_rng(0).standard_normal((8, 6)).astype("float32")
Y = np.random.default_rng(1).integers(0, 3, (8,))


def _custom_layer_class(lib):
    class Projection(lib.layers.Layer):
        """A user's layer written with `keras.ops` (runs unchanged on both libraries)."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="ones", name="b")

        def call(self, inputs):
            return lib.ops.tanh(lib.ops.matmul(inputs, self.w) + self.b)

    return Projection


def _model(lib):
    inputs = lib.Input((6,))
    hidden = lib.layers.Dense(8, activation="relu", name="first")(inputs)  # float16 outputs
    projected = _custom_layer_class(lib)(5, autocast=False, name="uncast")(hidden)
    logits = lib.layers.Dense(3, name="last")(projected)
    probabilities = lib.layers.Activation("softmax", dtype="float32")(logits)
    return lib.Model(inputs, [projected, logits, probabilities])


def _dtype(x):
    return str(x.dtype).replace("torch.", "")


def _numpy(keras, x):
    return keras.ops.convert_to_numpy(x).astype("float32") if not isinstance(x, torch.Tensor) \
        else x.detach().float().numpy()


def test_uncast_custom_layer_in_a_mixed_model_matches_keras(keras_oracle, mixed_policy):
    keras = keras_oracle
    keras.utils.set_random_seed(0)
    theirs, ours = _model(keras), _model(keraslike)
    ours.set_weights(theirs.get_weights())
    layer = ours.get_layer("uncast")
    compute = mixed_policy.split("_")[1]
    assert (layer.autocast, layer.compute_dtype, layer.variable_dtype) == (False, compute, "float32")
    # Symbolic dtypes: the uncast layer's are float32 (float16 inputs, float32 weights).
    assert [t.dtype for t in ours.outputs] == [t.dtype for t in theirs.outputs] \
        == ["float32", compute, "float32"]
    expected = theirs(X)
    for got, want in zip(ours(torch.as_tensor(X)), expected):
        assert _dtype(got) == _dtype(want)
        np.testing.assert_allclose(_numpy(keras, got), _numpy(keras, want), rtol=1e-2, atol=1e-2)
    assert all(w.dtype == torch.float32 for w in ours.weights)
    if compute == "float16":  # numpy has no bfloat16
        ours_predicted = ours.predict(X, verbose=0)
        for got, want in zip(ours_predicted, theirs.predict(X, verbose=0)):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-2)


def test_uncast_custom_layer_computes_in_float32_not_in_half_precision(mixed_policy):
    # The projection's values are the float32 computation on the (half-precision) inputs:
    # much closer to it than a half-precision matmul would be.
    model = _model(keraslike)
    layer = model.get_layer("uncast")
    hidden = model.get_layer("first")(torch.as_tensor(X))
    assert hidden.dtype == getattr(torch, mixed_policy.split("_")[1])
    got = model(torch.as_tensor(X))[0]
    w, b = (t.detach() for t in (layer.w, layer.b))
    exact = torch.tanh(hidden.float() @ w + b)
    torch.testing.assert_close(got, exact, rtol=1e-6, atol=1e-6)


def test_uncast_custom_layer_fits_like_keras(keras_oracle, mixed_policy):
    keras = keras_oracle
    keras.utils.set_random_seed(0)
    losses, weights = [], []
    models = [_model(keras), _model(keraslike)]
    models[1].set_weights(models[0].get_weights())
    for lib, model in zip((keras, keraslike), models):
        model.compile(optimizer=lib.optimizers.SGD(0.1),
                      loss=[None, None, "sparse_categorical_crossentropy"])
        history = model.fit(X, Y, batch_size=4, epochs=3, verbose=0, shuffle=False)
        losses.append(history.history["loss"])
        weights.append(model.get_layer("uncast").get_weights())
    assert losses[1][-1] < losses[1][0]
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-2)
    for got, want in zip(weights[1], weights[0]):
        np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-3)
    assert all(w.dtype == torch.float32 for w in models[1].weights)


@pytest.mark.parametrize("name,make,x", [
    ("Dense", lambda lib: lib.layers.Dense(3, autocast=False), X),
    ("Activation", lambda lib: lib.layers.Activation("relu", autocast=False), X),
    ("LayerNormalization", lambda lib: lib.layers.LayerNormalization(autocast=False), X),
    ("Embedding", lambda lib: lib.layers.Embedding(7, 3, autocast=False), np.array([[1, 2, 6]])),
])
def test_uncast_builtin_layers_in_a_mixed_model_match_keras(keras_oracle, mixed_policy, name, make, x):
    # Keras's Dense promotes (float32 outputs, symbolically its compute dtype); layers without
    # weights keep their inputs' dtype; LayerNormalization and Embedding cast their outputs.
    keras = keras_oracle
    results = []
    for lib in (keras, keraslike):
        integer = x.dtype.kind == "i"
        inputs = lib.Input(x.shape[1:], dtype="int32" if integer else "float32")
        hidden = inputs if integer else lib.layers.Activation("linear")(inputs)
        layer = make(lib)
        outputs = layer(hidden)
        model = lib.Model(inputs, outputs)
        results.append((model, layer, outputs.dtype))
    (theirs, their_layer, their_dtype), (ours, our_layer, our_dtype) = results
    our_layer.set_weights([keras.ops.convert_to_numpy(w) for w in their_layer.weights])
    assert our_dtype == their_dtype
    expected, got = theirs(x), ours(torch.as_tensor(x))
    assert _dtype(got) == _dtype(expected)
    np.testing.assert_allclose(_numpy(keras, got), _numpy(keras, expected), rtol=1e-2, atol=1e-2)
    assert our_layer.autocast is their_layer.autocast is False


@pytest.mark.slow
def test_uncast_layer_in_a_mixed_model_compiles_without_graph_breaks():
    keraslike.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        inputs = keraslike.Input((6,))
        hidden = keraslike.layers.Dense(8)(inputs)
        uncast = keraslike.layers.Dense(8, autocast=False)(hidden)
        model = keraslike.Model(inputs, keraslike.layers.Dense(3)(uncast))
    finally:
        keraslike.mixed_precision.set_global_policy("float32")
    x = torch.as_tensor(X)
    expected = model(x)
    got = torch.compile(model, fullgraph=True)(x)
    assert got.dtype == expected.dtype == torch.bfloat16
    torch.testing.assert_close(got, expected)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_uncast_custom_layer_on_cuda(name):
    # fit enters torch.autocast("cuda") for the whole step: the uncast layer turns it off.
    keraslike.mixed_precision.set_global_policy(name)
    try:
        model = _model(keraslike)
    finally:
        keraslike.mixed_precision.set_global_policy("float32")
    model.to("cuda")
    layer = model.get_layer("uncast")
    x = torch.as_tensor(X, device="cuda")
    hidden = model.get_layer("first")(x)
    projected, _, probabilities = model(x)
    assert projected.dtype == probabilities.dtype == torch.float32
    exact = torch.tanh(hidden.float() @ layer.w.detach() + layer.b.detach())
    torch.testing.assert_close(projected, exact, rtol=1e-4, atol=1e-4)
    model.compile(optimizer="sgd", loss=[None, None, "sparse_categorical_crossentropy"])
    losses = model.fit(X, Y, batch_size=4, epochs=3, verbose=0).history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def _block_class(lib):
    class Block(lib.layers.Layer):
        """An uncast layer holding a mixed sublayer and a weight of its own."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = lib.layers.Dense(4, name="inner")

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(4,), initializer="ones", name="scale")
            self.inner.build(input_shape)

        def call(self, inputs):
            return self.inner(inputs) * self.scale

    return Block


def test_uncast_layer_with_a_mixed_sublayer_matches_keras(keras_oracle, mixed_policy):
    # Keras: the sublayer (mixed) casts its inputs and weights again, so it computes in the
    # compute dtype; the product with the parent's float32 weight is float32.
    keras = keras_oracle
    results = []
    for lib in (keras, keraslike):
        inputs = lib.Input((6,))
        outputs = _block_class(lib)(autocast=False, name="block")(inputs)
        results.append(lib.Model(inputs, outputs))
    theirs, ours = results
    ours.set_weights(theirs.get_weights())
    assert ours.outputs[0].dtype == theirs.outputs[0].dtype
    expected, got = theirs(X), ours(torch.as_tensor(X))
    assert _dtype(got) == _dtype(expected)
    np.testing.assert_allclose(_numpy(keras, got), _numpy(keras, expected), rtol=1e-2, atol=1e-2)


def test_layer_after_an_uncast_layer_gets_its_inputs_cast_as_keras(keras_oracle, mixed_policy):
    # The uncast Dense outputs float32 when it runs (float16 symbolically, in both libraries);
    # Keras casts it to the compute dtype again for the Add, which rounds each operand first.
    def model(lib):
        inputs = lib.Input((6,))
        uncast = lib.layers.Dense(4, autocast=False, name="uncast")(inputs)
        mixed = lib.layers.Dense(4, name="mixed")(inputs)
        return lib.Model(inputs, lib.layers.Add()([uncast, mixed]))

    theirs, ours = model(keras_oracle), model(keraslike)
    ours.set_weights(theirs.get_weights())
    x = X * 40.0  # large values: one rounding more or less shows
    expected = _numpy(keras_oracle, theirs(x))
    got = ours(torch.as_tensor(x))
    assert _dtype(got) == mixed_policy.split("_")[1]
    np.testing.assert_array_equal(_numpy(keras_oracle, got), expected)
