"""Sublayers kept in a list or dict attribute are tracked however they got there, as in Keras 3:
`self.blocks = []` then `append` (keras-io's neural decision forest), `self.embeddings = dict()`
then item assignment (keras-io's variable selection network), lists mixing layers with other
values, `insert`, removal and reassignment. Also `build(self)` without a shape argument."""

import copy

import numpy as np
import pytest

import keraslike


def _forest_class(lib):
    class Forest(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.ensemble = []
            for _ in range(2):
                self.ensemble.append(lib.layers.Dense(3))
            self.head = [lib.layers.Dense(3)]
            self.mixed = ["a", lib.layers.Dense(2)]
            self.mixed.insert(0, lib.layers.Dense(3))
            self.notes = []
            self.notes.append(7)

        def call(self, x):
            out = self.head[0](x) + self.mixed[0](x) + self.mixed[2](x)[:, :1]
            for tree in self.ensemble:
                out = out + tree(x)
            return out

    return Forest


def _weights(lib):
    layer = _forest_class(lib)()
    layer(np.ones((2, 4), "float32"))
    return layer, [w.path for w in layer.weights], [np.shape(w) for w in layer.get_weights()]


def test_appended_and_inserted_sublayers_are_weights_in_keras_order(keras_oracle):
    keras_oracle.backend.clear_session()
    _, expected_paths, expected_shapes = _weights(keras_oracle)
    keraslike.backend.clear_session()
    layer, paths, shapes = _weights(keraslike)
    assert (paths, shapes) == (expected_paths, expected_shapes)
    assert len(paths) == 10
    assert layer.notes == [7] and layer.mixed[1] == "a"
    assert isinstance(layer.ensemble, list)


def test_appended_sublayers_train_and_save(tmp_path):
    inputs = keraslike.Input((4,))
    model = keraslike.Model(inputs, _forest_class(keraslike)()(inputs))
    model.compile(optimizer="sgd", loss="mse")
    tree = model.layers[1].ensemble[1]
    before = tree.get_weights()[0]
    model.fit(np.ones((8, 4), "float32"), np.zeros((8, 3), "float32"), epochs=1, verbose=0)
    assert not np.allclose(tree.get_weights()[0], before)

    path = str(tmp_path / "forest.weights.h5")
    model.save_weights(path)
    other = keraslike.Model(inputs, model.layers[1](inputs))  # same layer: overwrite, then restore
    saved = [np.array(w) for w in model.get_weights()]
    model.set_weights([np.zeros_like(w) for w in saved])
    other.load_weights(path)
    for a, b in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(a, b)


def test_list_mutations_and_reassignment_update_the_module_tree():
    layer = _forest_class(keraslike)()
    count = lambda: sum(1 for _ in layer.modules())  # noqa: E731
    n = count()
    removed = layer.ensemble.pop()
    assert count() == n - 1
    layer.ensemble += [removed]
    assert count() == n
    layer.ensemble = None
    assert layer.ensemble is None and count() == n - 2 - 1  # both trees and their ModuleList
    clone = copy.deepcopy(layer)
    clone.mixed.append(keraslike.layers.Dense(1))
    assert len(list(clone.modules())) == len(list(layer.modules())) + 1


def _selection_class(lib):
    class Selection(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embeddings = dict()
            for key in ("b", "a"):
                self.embeddings[key] = lib.layers.Dense(3)
            self.heads = {"z": lib.layers.Dense(3), "y": lib.layers.Dense(3), "note": 1}

        def call(self, x):
            return sum(layer(x) for layer in self.embeddings.values()) + self.heads["y"](x)

        def build(self):  # keras-io's VSN: no shape argument
            self.built = True

    return Selection


def test_dict_sublayers_and_argumentless_build_match_keras(keras_oracle):
    found = []
    for lib in (keras_oracle, keraslike):
        lib.backend.clear_session()
        layer = _selection_class(lib)()
        out = layer(np.ones((2, 4), "float32"))
        found.append(([w.path for w in layer.weights], layer.get_build_config(), tuple(out.shape)))
    assert found[1] == found[0]
    assert len(found[1][0]) == 6  # heads['z'] is never called, so never built (as in Keras)


def test_tracked_containers_flatten_as_plain_ones():
    layer = _selection_class(keraslike)()
    layer.extra = [1, keraslike.layers.Dense(2)]
    assert keraslike.tree.flatten(layer.extra)[0] == 1
    assert len(keraslike.tree.flatten(layer.heads)) == 3
    assert keraslike.tree.map_structure(lambda v: v, layer.extra)[0] == 1


@pytest.fixture
def keras_oracle():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("make", [_forest_class, _selection_class], ids=["lists", "dicts"])
def test_weights_files_cross_load_with_keras(keras_oracle, make, tmp_path):
    # Keras names a container's layers in the file by the container's order (an `insert`
    # puts a layer first there, last in the weights' order): both directions must load.
    x = np.random.default_rng(0).random((3, 4)).astype("float32")
    models = []
    for lib in (keras_oracle, keraslike):
        inputs = lib.Input((4,))
        models.append(lib.Model(inputs, make(lib)()(inputs)))
    theirs, ours = models
    theirs.save_weights(str(tmp_path / "theirs.weights.h5"))
    ours.load_weights(str(tmp_path / "theirs.weights.h5"))
    np.testing.assert_allclose(ours(x).detach().numpy(), theirs(x).detach().numpy(), rtol=1e-6)
    ours.set_weights([w + 0.25 for w in ours.get_weights()])
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    theirs.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(theirs(x).detach().numpy(), ours(x).detach().numpy(), rtol=1e-6)
