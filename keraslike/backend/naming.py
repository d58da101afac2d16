"""Unique default names (`dense`, `dense_1`, ...) per session, as Keras assigns them."""

import itertools
import re

_NAME_COUNTS = {}
_CREATED = itertools.count()


def creation_index():
    """An increasing number per weight created (Keras lists a layer's weights in creation
    order, whether made by `add_weight` or assigned as a `keras.Variable`)."""
    return next(_CREATED)


def to_snake_case(name):
    """Converts a class name to snake case the way Keras does (`Conv2D` -> `conv2d`)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    if name.startswith("_"):
        name = "private" + name
    return name


def uniquify(base):
    """Returns `base` the first time it is asked for in a session, then `base_1`, `base_2`, ..."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def get_uid(prefix=""):
    """Returns a unique integer id for `prefix` in this session: 1, 2, ... (shared with the
    default names, as in Keras: after a layer named `dense`, `get_uid("dense")` is 2)."""
    count = _NAME_COUNTS.get(prefix, 0) + 1
    _NAME_COUNTS[prefix] = count
    return count


def reset_names():
    """Forgets every name handed out so far (used by `clear_session`)."""
    _NAME_COUNTS.clear()
