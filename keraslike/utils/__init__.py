"""Utilities (`keras.utils`): data helpers, progress bar, seeds, file cache."""

from keraslike.serialization.registry import (
    CustomObjectScope,
    custom_object_scope,
    register_keras_serializable,
)
from keraslike.utils.dataset_utils import split_dataset
from keraslike.utils.file_utils import get_file
from keraslike.utils.model_visualization import model_to_dot, plot_model
from keraslike.utils.numerical_utils import normalize, to_categorical
from keraslike.utils.progbar import Progbar
from keraslike.utils.py_dataset import PyDataset, Sequence
from keraslike.utils.rng_utils import set_random_seed
from keraslike.utils.sequence_utils import pad_sequences

__all__ = [
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "custom_object_scope",
    "get_file",
    "model_to_dot",
    "normalize",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "set_random_seed",
    "split_dataset",
    "to_categorical",
]

