"""A `SeedGenerator` a layer holds is layer state as in Keras 3: its `seed_generator_state` is in
`variables` and `non_trainable_variables` (after the layer's own weights, before its sublayers'),
never in `weights`, `count_params`, `summary`, `get_weights`/`set_weights` or Keras's weight
files. keraslike keeps the state where it was (the buffer `seed_generator.state` of a seeded
layer's `state_dict()`), so torch state dicts load as before."""

import io
import zipfile

import numpy as np
import pytest
import torch

import keraslike

keras = pytest.importorskip("keras")


def _noise_layer_class(lib):
    class Noisy(lib.layers.Layer):
        """A weight, a seed generator, then a sublayer: Keras lists them in that order."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = lib.random.SeedGenerator(1337)
            self.dense = lib.layers.Dense(2)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
            self.dense.build(input_shape)

        def call(self, x, training=False):
            if training:
                x = x + lib.random.normal(tuple(x.shape), seed=self.seed_generator)
            return self.dense(x * self.scale)

    return Noisy


def _model(lib):
    lib.backend.clear_session()
    inputs = lib.Input((4,))
    x = lib.layers.Dense(3)(inputs)
    x = _noise_layer_class(lib)()(x)
    x = lib.layers.Dropout(0.5, seed=7)(x)
    x = lib.layers.Dropout(0.5)(x)
    outputs = lib.layers.GaussianNoise(0.1)(x)
    return lib.Model(inputs, outputs)


def _listing(variables):
    return [(v.name, v.path, tuple(v.shape), bool(v.trainable)) for v in variables]


def test_model_variables_are_keras_variables():
    expected, model = _model(keras), _model(keraslike)
    assert _listing(model.variables) == _listing(expected.variables)
    assert _listing(model.non_trainable_variables) == _listing(expected.non_trainable_variables)
    assert _listing(model.trainable_variables) == _listing(expected.trainable_variables)
    assert _listing(model.weights) == _listing(expected.weights)
    assert model.count_params() == expected.count_params()
    assert [w.shape for w in model.get_weights()] == [w.shape for w in expected.get_weights()]
    names = [v.name for v in model.non_trainable_variables]
    assert names == ["seed_generator_state"] * 4


def test_summary_counts_no_seed_state():
    expected, model = _model(keras), _model(keraslike)
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    keras_lines = []
    expected.summary(print_fn=lambda line, *args, **kwargs: keras_lines.append(line))
    totals = [line for line in "\n".join(lines).splitlines() if "params" in line]
    keras_totals = [line for line in "\n".join(keras_lines).splitlines() if "params" in line]
    assert totals == keras_totals


def test_frozen_layer_lists_every_variable_as_non_trainable():
    expected, model = _model(keras), _model(keraslike)
    for m in (expected, model):
        m.layers[2].trainable = False
    for got, want in ((model.layers[2], expected.layers[2]), (model, expected)):
        assert _listing(got.non_trainable_variables) == _listing(want.non_trainable_variables)
        assert _listing(got.trainable_variables) == _listing(want.trainable_variables)


def test_state_is_the_generator_state_and_a_keras_variable():
    layer = _noise_layer_class(keraslike)()
    state = layer.seed_generator.state
    assert layer.variables == [state]  # not built yet: no weights
    assert isinstance(state, keraslike.Variable) and not state.trainable
    assert state.dtype == torch.int32 and state.device.type == "cpu"
    np.testing.assert_array_equal(state.numpy(), [1337, 0])
    np.testing.assert_array_equal(np.array(state.value), [1337, 0])


def test_state_advances_as_keras_and_set_weights_leaves_it():
    expected, model = _model(keras), _model(keraslike)
    model.set_weights(expected.get_weights())
    x = np.ones((2, 4), "float32")
    for _ in range(3):
        want = expected(x, training=True)
        got = model(torch.from_numpy(x), training=True)
    seeded = [0, 1]  # the Noisy layer's and the seeded Dropout's states
    states = [v.numpy() for v in model.non_trainable_variables]
    keras_states = [np.array(v.numpy()) for v in expected.non_trainable_variables]
    for i in seeded:
        np.testing.assert_array_equal(states[i], keras_states[i])
    np.testing.assert_array_equal(states[0], [1337, 3])
    # Keras's set_weights covers weights only: the seed states stay where they are.
    model.set_weights(model.get_weights())
    for i in seeded:
        np.testing.assert_array_equal(model.non_trainable_variables[i].numpy(), states[i])
    assert got.shape == tuple(want.shape)


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.Dropout(0.5),
        lambda L: L.Dropout(0.5, seed=3),
        lambda L: L.Dropout(0.0),
        lambda L: L.SpatialDropout1D(0.2),
        lambda L: L.SpatialDropout2D(0.2, seed=1),
        lambda L: L.SpatialDropout3D(0.2),
        lambda L: L.GaussianNoise(0.1),
        lambda L: L.GaussianNoise(0.0),
        lambda L: L.GaussianDropout(0.1, seed=2),
        lambda L: L.GaussianDropout(0.0),
        lambda L: L.AlphaDropout(0.1),
        lambda L: L.ActivityRegularization(),
    ],
)
def test_noise_layers_list_keras_variables(make):
    listings = []
    for lib in (keras, keraslike):
        lib.backend.clear_session()
        layer = make(lib.layers)
        listings.append((_listing(layer.variables), _listing(layer.non_trainable_variables),
                         _listing(layer.weights)))
    assert listings[1] == listings[0]


def test_unseeded_noise_layers_keep_their_state_dict():
    # Their generator (made as Keras makes it) is outside the module tree: nothing is saved.
    for layer in (keraslike.layers.Dropout(0.5), keraslike.layers.GaussianNoise(0.1),
                  keraslike.layers.AlphaDropout(0.1), keraslike.layers.SpatialDropout2D(0.1)):
        assert len(layer.variables) == 1
        assert dict(layer.state_dict()) == {} and list(layer.buffers()) == []
        assert list(layer.children()) == []
    seeded = keraslike.layers.Dropout(0.5, seed=3)
    assert list(seeded.state_dict()) == ["seed_generator.state"]


def test_state_dict_round_trip_restores_the_state_and_keeps_the_variable():
    model = _model(keraslike)
    keys = [k for k in model.state_dict() if k.endswith("seed_generator.state")]
    assert len(keys) == 2  # the seeded ones only, as before
    x = torch.ones(2, 4)
    model(x, training=True)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    model(x, training=True)
    fresh = _model(keraslike)
    for assign in (False, True):
        fresh.load_state_dict(saved, assign=assign)
        for v in fresh.non_trainable_variables[:2]:
            assert isinstance(v, keraslike.Variable) and v.path.endswith("/seed_generator_state")
            np.testing.assert_array_equal(v.numpy()[1], 1)
    # A state dict of plain tensors (as older keraslike versions wrote) loads the same way.
    plain = {k: torch.Tensor(v.detach().clone()) for k, v in saved.items()}
    fresh.load_state_dict(plain)
    np.testing.assert_array_equal(fresh.non_trainable_variables[1].numpy(), [7, 1])


def test_keras_files_hold_no_seed_state(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = _model(keraslike)
    model(torch.ones(2, 4), training=True)
    path = tmp_path / "m.keras"
    model.save(path)
    names = []
    with zipfile.ZipFile(path) as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as f:
            f.visititems(lambda name, obj: names.append(name) if hasattr(obj, "shape") else None)
    assert len(names) == len(model.weights)
    # Loaded with fresh seed states, as Keras loads its own files.
    loaded = keraslike.saving.load_model(path, custom_objects={"Noisy": type(model.layers[2])})
    np.testing.assert_array_equal(loaded.non_trainable_variables[0].numpy(), [1337, 0])


def test_seed_generators_in_a_list_are_listed_in_order():
    def make(lib):
        class Twice(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.generators = [lib.random.SeedGenerator(1), lib.random.SeedGenerator(2)]

            def call(self, x):
                return x

        lib.backend.clear_session()
        return _listing(Twice().variables)

    assert make(keraslike) == make(keras)


@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda L: L.LSTM(4, dropout=0.2), ((None, 5, 3),)),
        (lambda L: L.GRU(4, seed=3), ((None, 5, 3),)),
        (lambda L: L.SimpleRNN(4), ((None, 5, 3),)),
        (lambda L: L.ConvLSTM2D(2, 3), ((None, 3, 6, 6, 2),)),
        (lambda L: L.Bidirectional(L.LSTM(4)), ((None, 5, 3),)),
        (lambda L: L.RNN(L.LSTMCell(3)), ((None, 5, 3),)),
        (lambda L: L.Attention(dropout=0.1), ([(None, 3, 4), (None, 3, 4)],)),
        (lambda L: L.Attention(), ([(None, 3, 4), (None, 3, 4)],)),
        (lambda L: L.RandomFlip(seed=1), ((None, 8, 8, 3),)),
    ],
)
def test_built_in_layers_holding_generators_list_keras_variables(make, shapes):
    listings = []
    for lib in (keras, keraslike):
        lib.backend.clear_session()
        layer = make(lib.layers)
        layer.build(*shapes)
        listings.append((_listing(layer.variables), _listing(layer.non_trainable_variables)))
    assert listings[1] == listings[0]


def test_recurrent_state_dicts_are_unchanged():
    # The cells' generators (their dropout draws from torch's global generator) are not saved.
    layer = keraslike.layers.LSTM(3, dropout=0.2, seed=1)
    layer.build((None, 4, 2))
    assert not any("seed" in key for key in layer.state_dict())
    assert [v.name for v in layer.non_trainable_variables] == ["seed_generator_state"]
