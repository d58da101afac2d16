"""`model.quantize(mode)`: quantizes every layer of a model that supports it, as Keras 3 does."""

import re
import warnings

from keraslike.layers.layer import Layer
from keraslike.quantizers.quantization_config import validate_and_resolve_config


def should_quantize_layer(layer, filters):
    """Whether `filters` (a regex, a list of regexes or a callable; `None`: all) selects `layer`."""
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    if callable(filters):
        return filters(layer)
    return True


def quantize_model(model, mode=None, config=None, filters=None, **kwargs):
    """Quantizes, in place, every leaf layer of `model` that has a `quantize` method.

    Args:
        model: A built model.
        mode: `"int8"`, `"int4"` or `"float8"` (optional when `config` gives it).
        config: A `keras.quantizers.QuantizationConfig`.
        filters: A regex (searched in layer names), a list of them, or a callable `layer -> bool`.
        **kwargs: `type_check` (default True: subclasses of Dense etc. are skipped with a
            warning, as in Keras).

    Raises:
        ValueError: For unknown keyword arguments, a bad `filters`, or a bad mode/config.
    """
    type_check = kwargs.pop("type_check", True)
    if kwargs:
        raise ValueError(
            f"Unrecognized keyword arguments passed to {type(model).__name__}: {kwargs}"
        )
    if filters is not None and not isinstance(filters, (str, list, tuple)) and not callable(filters):
        raise ValueError(
            "The `filters` argument must be a regex string, a list of regex strings, or a "
            f"callable. Received: {type(filters)}"
        )
    config = validate_and_resolve_config(mode, config)
    if config.mode in ("gptq", "awq"):
        raise NotImplementedError(f"Quantization mode {config.mode!r} is not implemented in keraslike.")
    seen = set()
    for layer in model.modules():
        if not isinstance(layer, Layer) or id(layer) in seen or layer is model:
            continue
        seen.add(id(layer))
        if any(isinstance(sub, Layer) for sub in layer.children()):
            continue  # composite layers: their leaves are visited themselves
        if not should_quantize_layer(layer, filters) or not hasattr(layer, "quantize"):
            continue
        try:
            layer.quantize(config.mode, type_check=type_check, config=config)
        except NotImplementedError as error:
            warnings.warn(str(error), stacklevel=3)
