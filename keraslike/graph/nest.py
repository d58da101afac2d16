"""Flattening and re-packing of nested structures (tensor, list, tuple, dict) of call arguments."""


def flatten(structure):
    """Returns the leaves of `structure` in order (dicts in insertion order)."""
    if isinstance(structure, (list, tuple)):
        leaves = []
        for item in structure:
            leaves.extend(flatten(item))
        return leaves
    if isinstance(structure, dict):
        leaves = []
        for value in structure.values():
            leaves.extend(flatten(value))
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
            return {k: rebuild(v) for k, v in item.items()}
        return next(iterator)

    return rebuild(structure)


def map_structure(fn, structure):
    """Applies `fn` to every leaf of `structure`, keeping the structure."""
    return pack_like(structure, [fn(leaf) for leaf in flatten(structure)])
