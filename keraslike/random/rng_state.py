"""The process's random state as tensors, to save with a checkpoint and restore bit for bit.

A training run draws random numbers from several places: torch's CPU generator (dropout on the
CPU, `torch.randperm` shuffles, DataLoader seeds), one CUDA generator per device (dropout on the
GPU), the global `keras.random.SeedGenerator` (random ops called with `seed=None`), NumPy's and
Python's global generators (user generators and augmentations). `get_state()` captures all of
them as a dict `name -> tensor` (safetensors can store it as it is) and `set_state()` puts them
back, so the draws after a restore are the draws that followed the capture. Layers' own
`SeedGenerator`s are buffers in the model's `state_dict()` and travel with the weights.

Names in the dict: `torch` (CPU generator), `cuda.<index>`, `numpy.key`/`numpy.rest`,
`python.key`/`python.rest`, `keras_seed` (absent while the global SeedGenerator is unused).
"""

import random as python_random

import numpy as np
import torch

from keraslike.random import seed_generator


def get_state():
    """Returns the random state of the process as `{name: CPU tensor}` (copies).

    CUDA generators are included only when CUDA is initialized (no draw was possible before).

    Returns:
        A dict of tensors; `set_state` restores it.
    """
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, cuda_state in enumerate(torch.cuda.get_rng_state_all()):
            state[f"cuda.{index}"] = cuda_state
    kind, key, pos, has_gauss, cached = np.random.get_state()
    if kind != "MT19937":  # np.random.set_state would not take anything else back
        raise ValueError(f"Unsupported NumPy global generator {kind!r}.")
    state["numpy.key"] = torch.from_numpy(np.asarray(key, dtype=np.int64).copy())
    state["numpy.rest"] = torch.tensor([pos, has_gauss, cached], dtype=torch.float64)
    version, key, gauss_next = python_random.getstate()
    state["python.key"] = torch.tensor(key, dtype=torch.int64)
    state["python.rest"] = torch.tensor(
        [version, gauss_next is not None, gauss_next or 0.0], dtype=torch.float64
    )
    generator = seed_generator._GLOBAL["generator"]
    if generator is not None:
        state["keras_seed"] = generator.state.clone()
    return state


def set_state(state):
    """Restores a state returned by `get_state` (or read back from a file).

    Args:
        state: `{name: tensor}` as `get_state` returns it. CUDA states for devices this process
            does not have are ignored; a missing `keras_seed` resets the global SeedGenerator
            (it is then created from Python's restored generator on first use, as before).

    Raises:
        ValueError: When an entry is missing or malformed (the message names it).
    """
    if "keras_seed" in state:
        generator = seed_generator._GLOBAL["generator"]
        if generator is None:
            # A seed of 0 draws nothing from Python's generator; the state is overwritten.
            generator = seed_generator._GLOBAL["generator"] = seed_generator.SeedGenerator(seed=0)
        with torch.no_grad():
            generator.state.copy_(state["keras_seed"].to(torch.int32))
    else:
        seed_generator.reset_global_seed_generator()
    try:
        torch.set_rng_state(_get(state, "torch").to(torch.uint8))
        cuda = sorted((int(k.split(".", 1)[1]), v) for k, v in state.items() if k.startswith("cuda."))
        if cuda and torch.cuda.is_available():
            for index, cuda_state in cuda:
                if index < torch.cuda.device_count():
                    torch.cuda.set_rng_state(cuda_state.to(torch.uint8), index)
        pos, has_gauss, cached = _get(state, "numpy.rest").tolist()
        key = _get(state, "numpy.key").numpy().astype(np.uint32)
        np.random.set_state(("MT19937", key, int(pos), int(has_gauss), float(cached)))
        version, has_next, gauss_next = _get(state, "python.rest").tolist()
        key = tuple(int(v) for v in _get(state, "python.key").tolist())
        python_random.setstate((int(version), key, gauss_next if has_next else None))
    except (RuntimeError, TypeError, IndexError) as error:
        raise ValueError(f"Malformed random state: {error}") from error


def _get(state, name):
    if name not in state:
        raise ValueError(f"Malformed random state: no {name!r} entry.")
    return state[name]
