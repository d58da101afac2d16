"""`keras.config`: global settings (float type, epsilon, data format, logging, safety switches).

Gathers the settings that live in the lower packages (`backend.config`, `backend.runtime_flags`,
the serialization registry's safe mode, traceback filtering) under Keras 3's names.
"""

from keraslike._api_gaps import module_getattr as _module_getattr
from keraslike.backend import backend
from keraslike.backend.config import (  # noqa: F401
    disable_traceback_filtering,
    enable_traceback_filtering,
    epsilon,
    floatx,
    image_data_format,
    is_traceback_filtering_enabled,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    standardize_data_format,
)
from keraslike.backend.runtime_flags import (
    disable_flash_attention,
    disable_interactive_logging,
    enable_flash_attention,
    enable_interactive_logging,
    is_flash_attention_enabled,
    is_interactive_logging_enabled,
    max_epochs,
    max_steps_per_epoch,
    set_max_epochs,
    set_max_steps_per_epoch,
)
from keraslike.dtype_policies.dtype_policy import dtype_policy, set_dtype_policy
from keraslike.serialization import enable_unsafe_deserialization

__all__ = [
    "backend",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "enable_flash_attention",
    "enable_interactive_logging",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "dtype_policy",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_interactive_logging_enabled",
    "is_traceback_filtering_enabled",
    "max_epochs",
    "max_steps_per_epoch",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_max_epochs",
    "set_max_steps_per_epoch",
]

__getattr__ = _module_getattr("keraslike.config")
