"""Flattening and re-packing of nested structures (tensor, list, tuple, dict) of call arguments.

Dicts are flattened in sorted key order, as Keras (optree) does, so a model with dict outputs
orders its outputs and layers exactly as Keras does.
"""


def _keys(d):
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def flatten(structure):
    """Returns the leaves of `structure` in order (dicts in insertion order)."""
    if isinstance(structure, (list, tuple)):
        leaves = []
        for item in structure:
            leaves.extend(flatten(item))
        return leaves
    if isinstance(structure, dict):
        leaves = []
        for key in _keys(structure):
            leaves.extend(flatten(structure[key]))
        return leaves
    return [structure]


def pack_like(structure, leaves):
    """Rebuilds `structure` with its leaves replaced, in order, by `leaves`."""
    iterator = iter(leaves)

    def rebuild(item):
        if isinstance(item, list):
            return [rebuild(x) for x in item]
        if isinstance(item, tuple):
            return tuple(rebuild(x) for x in item)
        if isinstance(item, dict):
            rebuilt = {k: rebuild(item[k]) for k in _keys(item)}
            return {k: rebuilt[k] for k in item}
        return next(iterator)

    return rebuild(structure)


def map_structure(fn, structure):
    """Applies `fn` to every leaf of `structure`, keeping the structure."""
    if not isinstance(structure, (list, tuple, dict)):
        return fn(structure)
    return pack_like(structure, [fn(leaf) for leaf in flatten(structure)])
