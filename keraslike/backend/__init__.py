"""Backend: global configuration, naming and session state."""

import gc

import torch

from keraslike.backend.config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    standardize_data_format,
)
from keraslike.backend.naming import reset_names


def clear_session(free_memory=True):
    """Resets the state Keras keeps per session: default layer names start again at `dense`.

    Args:
        free_memory: Accepted for Keras compatibility; also empties the CUDA cache when set.
    """
    reset_names()
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def backend():
    """Returns the name of the backend: `"torch"`."""
    return "torch"
