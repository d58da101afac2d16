"""Global settings: float type, epsilon and image data format (Keras's `keras.config`)."""

from keraslike.backend.traceback_utils import (  # noqa: F401  (keras.config API)
    disable_traceback_filtering,
    enable_traceback_filtering,
    is_traceback_filtering_enabled,
)

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_ALLOWED_FLOATX = ("float16", "bfloat16", "float32", "float64")


def floatx():
    """Returns the default float type, as a string (`"float32"` unless changed)."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type.

    Args:
        value: One of `"float16"`, `"bfloat16"`, `"float32"`, `"float64"`.
    """
    global _FLOATX
    if value not in _ALLOWED_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of {_ALLOWED_FLOATX}.")
    _FLOATX = str(value)


def epsilon():
    """Returns the fuzz factor used in numeric expressions (default `1e-7`)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns the default image data format: `"channels_last"` or `"channels_first"`."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image data format.

    Args:
        data_format: `"channels_last"` or `"channels_first"`.
    """
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    """Returns `data_format` checked, or the global default when it is `None`."""
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("keraslike.config")
