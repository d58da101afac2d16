"""`keras.tree`: utilities for nested structures (lists, tuples, namedtuples, dicts) of leaves.

Built on `torch.utils._pytree`, as Keras 3's torch backend is, with Keras's rules on top: plain
`dict`s (and `defaultdict`s) are visited in sorted key order, `OrderedDict`s and namedtuples in
their own order; `None` is a leaf; tensors and arrays are leaves. One quirk of Keras 3 on torch is kept so orders
match it exactly: a dict whose parent is a dict is visited in insertion order.
"""

import warnings
from collections import defaultdict

from torch.utils import _pytree as pytree


class MAP_TO_NONE:
    """Special value for use with `traverse()`: return it to put `None` at that position."""


def _is_leaf(value):
    return pytree._get_node_type(value) not in pytree.SUPPORTED_NODES


def _children(structure):
    """One level of `structure`: its direct children and the spec to rebuild it."""
    return pytree.tree_flatten(structure, is_leaf=lambda x: x is not structure)


def _sorted_dicts(structure):
    """A copy of `structure` whose plain dicts are key-sorted (the order every function uses).

    As in Keras 3 on torch, a dict's own values are not re-sorted: a dict directly inside a
    sorted dict keeps its insertion order (dicts under lists, tuples or namedtuples are sorted).
    """
    if type(structure) is dict:
        return {k: structure[k] for k in sorted(structure)}
    if type(structure) is defaultdict:
        return defaultdict(structure.default_factory, {k: structure[k] for k in sorted(structure)})
    if _is_leaf(structure):
        return structure
    children, spec = _children(structure)
    return pytree.tree_unflatten([_sorted_dicts(c) for c in children], spec)


def register_tree_node_class(cls):
    """Registers `cls` (with `torchtree_flatten` / `torchtree_unflatten` methods) as a node type."""
    pytree.register_pytree_node(
        cls,
        flatten_fn=lambda x: x.torchtree_flatten(),
        unflatten_fn=cls.torchtree_unflatten,
        serialized_type_name=cls.__name__,
        flatten_with_keys_fn=lambda x: x.torchtree_flatten_with_keys(),
    )
    return cls


def is_nested(structure):
    """Checks if a given structure is nested (a list, tuple, namedtuple or dict).

    Args:
        structure: A structure to check.

    Returns:
        `True` if `structure` is a nested structure (even an empty one), `False` for a leaf.
    """
    return not _is_leaf(structure)


def traverse(func, structure, top_down=True):
    """Traverses the given nested structure, applying the given function.

    The traversal is depth-first. If `top_down` is `True`, `func` is called on each node before its
    children: a non-`None` result replaces the node (and its children are not visited), `None`
    means "visit the children". If `top_down` is `False`, children are traversed first and `func`
    gets the already-traversed node; `None` keeps it. Return `keras.tree.MAP_TO_NONE` to put
    `None` in the result.

    Args:
        func: The function to be applied to each sub-nest of the structure.
        structure: The structure to traverse.
        top_down: If `True`, parent structures are visited first.

    Returns:
        The structured output from the traversal.
    """

    def visit_children(node):
        if _is_leaf(node):
            return node
        children, spec = _children(node)
        return pytree.tree_unflatten([traverse(func, c, top_down) for c in children], spec)

    structure = _sorted_dicts(structure)
    if top_down:
        result = func(structure)
        if result is None:
            return visit_children(structure)
    else:
        structure = visit_children(structure)
        result = func(structure)
        if result is None:
            return structure
    return None if result is MAP_TO_NONE else result


def flatten(structure):
    """Flattens a possibly nested structure into a list of its leaves.

    Dicts are flattened in sorted key order; a leaf gives a one-element list.

    Args:
        structure: An arbitrarily nested structure.

    Returns:
        A list, the flattened version of the input `structure`.

    Example:

    >>> keras.tree.flatten({"b": [1, 2], "a": 3})
    [3, 1, 2]
    """
    if _is_leaf(structure):
        return [structure]
    leaves, _ = pytree.tree_flatten(_sorted_dicts(structure))
    return leaves


def flatten_with_path(structure):
    """Flattens `structure`, returning `(path, leaf)` pairs.

    A path is a tuple of indices (lists, tuples, namedtuple field positions) and keys (dicts).

    Args:
        structure: An arbitrarily nested structure.

    Returns:
        A list of `(path, leaf)` tuples.
    """
    entries, _ = pytree.tree_flatten_with_path(_sorted_dicts(structure))
    fields = sorted({k.name for path, _ in entries for k in path if isinstance(k, pytree.GetAttrKey)})
    field_index = {name: i for i, name in enumerate(fields)}
    result = []
    for path, leaf in entries:
        keys = []
        for key in path:
            if isinstance(key, pytree.SequenceKey):
                keys.append(key.idx)
            elif isinstance(key, pytree.MappingKey):
                keys.append(key.key)
            elif isinstance(key, pytree.GetAttrKey):
                keys.append(field_index[key.name])
        result.append((tuple(keys), leaf))
    return result


def map_structure(func, *structures, none_is_leaf=True):
    """Maps `func` through given structures.

    Args:
        func: A callable taking as many arguments as there are structures.
        *structures: Structures of the same nesting.
        none_is_leaf: If `True` (default), `func` is called on `None` leaves; if `False`, `None`
            stays `None` (all structures must have `None` there).

    Returns:
        A structure like the first one, with `func`'s results as leaves.

    Raises:
        ValueError: If no structure is given or the structures differ.
    """
    if not structures:
        raise ValueError("Must provide at least one structure")
    if len(structures) == 1 and _is_leaf(structures[0]):
        if structures[0] is None and not none_is_leaf:
            return None
        return func(structures[0])
    mapped = func
    if not none_is_leaf:

        def mapped(*args):
            if args[0] is None:
                if not all(a is None for a in args):
                    raise ValueError(
                        "Structure mismatch: some arguments are None, others are not. "
                        f"Received arguments: {args}."
                    )
                return None
            return func(*args)

    return pytree.tree_map(mapped, *structures)


def map_structure_up_to(shallow_structure, func, *structures):
    """Maps `func` through `structures` down to the depth of `shallow_structure`.

    Args:
        shallow_structure: A structure that is a prefix of each of `structures`.
        func: A callable called with the sub-structures of `structures` found at the leaves of
            `shallow_structure`.
        *structures: Structures at least as deep as `shallow_structure`.

    Returns:
        A structure like `shallow_structure`, with `func`'s results as leaves.
    """
    if not structures:
        raise ValueError("Must provide at least one structure")

    def apply(shallow, *args):
        if not _is_leaf(shallow):
            raise ValueError("Structures don't have the same nested structure.")
        return func(*args)

    return pytree.tree_map(apply, shallow_structure, *structures)


def assert_same_structure(a, b, check_types=None):
    """Asserts that two structures are nested in the same way (types of containers included).

    Args:
        a: The first structure.
        b: The second structure.
        check_types: Deprecated, has no effect.

    Raises:
        ValueError: If the structures differ.
    """
    if check_types is not None:
        warnings.warn(
            "The `check_types` argument is deprecated and no longer has any effect, please remove.",
            DeprecationWarning,
            stacklevel=2,
        )

    def check(x, y):
        if not _is_leaf(x) or not _is_leaf(y):
            raise ValueError("Structures don't have the same nested structure.")

    pytree.tree_map(check, a, b)


def assert_same_paths(a, b):
    """Asserts that two structures have the same leaf paths (lists and tuples count as equal).

    Args:
        a: The first structure.
        b: The second structure.

    Raises:
        ValueError: If the paths differ, listing the paths missing on each side.
    """
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        message = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            message += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            message += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(message)


def pack_sequence_as(structure, flat_sequence):
    """Returns `flat_sequence` packed into the nesting of `structure` (dicts in sorted key order).

    Args:
        structure: A nested structure (its leaves are ignored).
        flat_sequence: A flat list of leaves, as many as `structure` has.

    Returns:
        `flat_sequence` arranged like `structure`.

    Raises:
        ValueError: If the number of leaves differs.
    """
    _, spec = pytree.tree_flatten(_sorted_dicts(structure))
    return pytree.tree_unflatten(flat_sequence, spec)


def lists_to_tuples(structure):
    """Returns `structure` with every list, at any depth, turned into a tuple."""
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure, top_down=False)


def map_shape_structure(func, structure):
    """Maps `func` over the shapes (tuples or lists of ints / `None`) found in `structure`.

    Args:
        func: A callable taking one shape.
        structure: A nested structure whose leaves are shapes.

    Returns:
        The structure with `func(shape)` in place of each shape.
    """

    def is_shape(x):
        return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)

    return pytree.tree_map(func, _sorted_dicts(structure), is_leaf=is_shape)
