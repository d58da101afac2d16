"""`set_random_seed`: one call seeds Python, NumPy and torch (CPU and every CUDA device)."""

import random

import numpy as np
import torch

from keraslike.random.seed_generator import reset_global_seed_generator

_GLOBAL_RANDOM_SEED = None


def set_random_seed(seed):
    """Sets all random seeds: Python's `random`, NumPy and torch.

    After this call a program that runs on the CPU gives the same numbers on every
    run (weight initialisation, dropout masks, shuffling, `split_dataset`, ...),
    for the same number of torch threads. It does:

    ```python
    import random
    random.seed(seed)
    import numpy as np
    np.random.seed(seed)
    import torch
    torch.manual_seed(seed)           # CPU and all CUDA devices
    torch.cuda.manual_seed_all(seed)  # explicit, lazy when CUDA is not initialised
    ```

    GPU runs can still differ between runs where a CUDA kernel is itself
    non-deterministic (atomics in some backward passes, cuDNN algorithm choice);
    `torch.use_deterministic_algorithms(True)` removes that at some speed cost and
    is left to the user, as are `DataLoader` worker seeds (torch derives those from
    the seed set here).

    Args:
        seed: Integer, the random seed to use.

    Example:

    ```python
    keras.utils.set_random_seed(1337)
    ```
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    global _GLOBAL_RANDOM_SEED
    seed = int(seed)
    _GLOBAL_RANDOM_SEED = seed
    reset_global_seed_generator()  # seed=None random ops start again from this seed
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def get_random_seed():
    """Returns the seed last given to `set_random_seed`, or `None` if it was never called."""
    return _GLOBAL_RANDOM_SEED
