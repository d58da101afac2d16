"""Utilities (`keras.utils`): data helpers, progress bar, seeds, file cache."""

from keraslike.serialization.registry import (
    CustomObjectScope,
    custom_object_scope,
    register_keras_serializable,
)
from keraslike.backend import clear_session, is_keras_tensor
from keraslike.backend.dtypes import standardize_dtype
from keraslike.backend.runtime_flags import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from keraslike.serialization import (
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    serialize_keras_object,
)
from keraslike.utils import bounding_boxes, legacy
from keraslike.utils.dataset_utils import split_dataset
from keraslike.utils.keras_api_utils import (
    Config,
    get_source_inputs,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)
from keraslike.utils.file_utils import get_file
from keraslike.utils.numerical_utils import normalize, to_categorical
from keraslike.utils.progbar import Progbar
from keraslike.utils.py_dataset import PyDataset, Sequence
from keraslike.utils.rng_utils import set_random_seed
from keraslike.utils.sequence_utils import pad_sequences

__all__ = [
    "FeatureSpace",
    "array_to_img",
    "audio_dataset_from_directory",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "save_img",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "Config",
    "clear_session",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "pack_x_y_sample_weight",
    "serialize_keras_object",
    "standardize_dtype",
    "unpack_x_y_sample_weight",
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

from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402
from keraslike._lazy import lazy_exports as _lazy_exports  # noqa: E402
from keraslike._lazy import lazy_submodules as _lazy_submodules  # noqa: E402

# Families a program may never touch load on first use (keraslike/README.md): FeatureSpace (built
# on the preprocessing layers), the dataset readers, image files and plot_model.
_LAZY_EXPORTS = {
    "feature_space": ("FeatureSpace",),
    "audio_dataset_utils": ("audio_dataset_from_directory",),
    "image_dataset_utils": ("image_dataset_from_directory",),
    "image_utils": ("array_to_img", "img_to_array", "load_img", "save_img"),
    "model_visualization": ("model_to_dot", "plot_model"),
    "text_dataset_utils": ("text_dataset_from_directory",),
    "timeseries_dataset_utils": ("timeseries_dataset_from_array",),
}
_load_lazy = _lazy_exports(
    _lazy_submodules(
        "keraslike.utils",
        (
            "feature_space",
            "audio_dataset_utils",
            "image_dataset_utils",
            "image_utils",
            "model_visualization",
            "text_dataset_utils",
            "timeseries_dataset_utils",
        ),
    ),
    _LAZY_EXPORTS,
)
__getattr__ = _module_getattr("keraslike.utils", fallback=_load_lazy)


def __dir__():
    return sorted(set(globals()) | _load_lazy.names)
