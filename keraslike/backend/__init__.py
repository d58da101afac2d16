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
from keraslike.backend.dtypes import is_float_dtype, is_int_dtype, result_type, standardize_dtype
from keraslike.backend.naming import get_uid, reset_names


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


def is_keras_tensor(x):
    """Returns whether `x` is a symbolic tensor (`keras.Input(...)` or a layer's output on one).

    Symbolic tensors are the ones that carry a `_keras_history` (the graph node that made them).
    """
    return hasattr(x, "_keras_history")
