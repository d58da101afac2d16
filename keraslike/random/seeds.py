"""Keras's default seed: what an unseeded initializer or `SeedGenerator` takes when it is made.

A module of its own, below both `keraslike.initializers` and `SeedGenerator` (whose state is a
`keras.Variable`, which resolves initializers by name), so that neither imports the other.
"""

import random as python_random


def make_default_seed():
    """A fresh seed from Python's `random` (repeatable after `keras.utils.set_random_seed`)."""
    return python_random.randint(1, int(1e9))
