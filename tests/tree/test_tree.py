"""`keras.tree` against Keras 3's (torch backend): same leaves, paths, packing and errors."""

import collections

import numpy as np
import pytest
import torch

from keraslike import tree

Point = collections.namedtuple("Point", "b a")

STRUCTURES = [
    1,
    None,
    [None],
    (1,),
    [],
    {},
    [1, None, (2, 3)],
    {"b": [1, None, (2, 3)], "a": Point(4, {"z": 5, "y": 6})},
    {"c": collections.OrderedDict([("q", 7), ("p", 8)]), "a": [9]},
    collections.defaultdict(int, {"b": 1, "a": 2}),
    [torch.ones(2), np.zeros(3), "text"],
    {"x": {"k2": [1, [2, {"k1": 3}]], "k0": ()}},
]
IDS = [f"s{i}" for i in range(len(STRUCTURES))]


def _same(ours, theirs):
    assert type(ours) is type(theirs)
    if isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs)
        for key in ours:
            _same(ours[key], theirs[key])
    elif isinstance(ours, torch.Tensor):
        assert torch.equal(ours, theirs)
    elif isinstance(ours, np.ndarray):
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert ours == theirs


def _double(x):
    return x * 2 if isinstance(x, int) else x


@pytest.mark.parametrize("structure", STRUCTURES, ids=IDS)
def test_same_as_keras(keras_oracle, structure):
    kt = keras_oracle.tree
    _same(tree.flatten(structure), kt.flatten(structure))
    _same(tree.flatten_with_path(structure), kt.flatten_with_path(structure))
    assert tree.is_nested(structure) == kt.is_nested(structure)
    _same(tree.map_structure(_double, structure), kt.map_structure(_double, structure))
    flat = list(range(len(kt.flatten(structure))))
    if tree.is_nested(structure):
        _same(tree.pack_sequence_as(structure, flat), kt.pack_sequence_as(structure, flat))
    _same(tree.lists_to_tuples(structure), kt.lists_to_tuples(structure))
    _same(tree.traverse(lambda x: None, structure), kt.traverse(lambda x: None, structure))
    _same(
        tree.traverse(lambda x: tree.MAP_TO_NONE if isinstance(x, int) and x == 1 else None, structure, top_down=False),
        kt.traverse(lambda x: kt.MAP_TO_NONE if isinstance(x, int) and x == 1 else None, structure, top_down=False),
    )
    tree.assert_same_structure(structure, structure)
    tree.assert_same_paths(structure, structure)


def test_map_structure_many_and_none(keras_oracle):
    kt = keras_oracle.tree
    a, b = {"y": [1, 2], "x": 3}, {"x": 30, "y": [10, 20]}
    _same(tree.map_structure(lambda p, q: p + q, a, b), kt.map_structure(lambda p, q: p + q, a, b))
    assert tree.map_structure(lambda x: 0, [1, None], none_is_leaf=False) == [0, None]
    assert tree.map_structure(lambda x: x is None, [None]) == [True]
    with pytest.raises(ValueError, match="None"):
        tree.map_structure(lambda x, y: x, [None], [1], none_is_leaf=False)
    with pytest.raises(ValueError):
        tree.map_structure(lambda x, y: x, [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        tree.map_structure(lambda x: x)


def test_map_structure_up_to_and_shapes(keras_oracle):
    kt = keras_oracle.tree
    args = ([1, 2], lambda x, y: (x, y), [[1], [2]], [3, 4])
    _same(tree.map_structure_up_to(*args), kt.map_structure_up_to(*args))
    shapes = {"b": [(1, 2), [4]], "a": (None, 3)}
    _same(tree.map_shape_structure(tuple, shapes), kt.map_shape_structure(tuple, shapes))


def test_errors_match_keras(keras_oracle):
    kt = keras_oracle.tree
    pairs = [([1, 2], (1, 2)), ([1, 2], [1, [2]]), ({"a": 1}, {"b": 1})]
    for a, b in pairs:
        with pytest.raises(ValueError):
            kt.assert_same_structure(a, b)
        with pytest.raises(ValueError):
            tree.assert_same_structure(a, b)
    tree.assert_same_paths([1, 2], (1, 2))  # lists and tuples have the same paths
    with pytest.raises(ValueError, match="missing in"):
        tree.assert_same_paths([1, 2], [1, [2]])
    with pytest.raises(ValueError):
        tree.pack_sequence_as([1, 2], [1])
