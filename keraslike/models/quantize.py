"""`model.quantize(mode)`: quantizes every layer of a model that supports it, as Keras 3 does."""

import warnings

from keraslike.layers.layer import Layer
from keraslike.quantizers.awq_core import apply_awq_layerwise
from keraslike.quantizers.gptq_core import (
    apply_gptq_layerwise,
    calibration_data,
    should_quantize_layer,
)
from keraslike.quantizers.quantization_config import validate_and_resolve_config

_CALIBRATORS = {"gptq": apply_gptq_layerwise, "awq": apply_awq_layerwise}


def quantize_model(model, mode=None, config=None, filters=None, **kwargs):
    """Quantizes, in place, every leaf layer of `model` that has a `quantize` method.

    Selected leaf layers without one are skipped with a warning, as in Keras.

    For `"gptq"`/`"awq"` the selected Dense/EinsumDense layers are then calibrated block by
    block over `config.quantization_layer_structure` (or, when the config has none,
    `model.get_quantization_layer_structure(mode)`), with `config.dataset`/`config.tokenizer`.

    Args:
        model: A built model.
        mode: `"int8"`, `"int4"`, `"float8"`, `"gptq"` or `"awq"` (optional when `config` gives it).
        config: A `keras.quantizers.QuantizationConfig` (a `GPTQConfig`/`AWQConfig` for those).
        filters: A regex (searched in layer names), a list of them, or a callable `layer -> bool`.
        **kwargs: `type_check` (default True: subclasses of Dense etc. are skipped with a
            warning, as in Keras).

    Raises:
        ValueError: For unknown keyword arguments, a bad `filters`, a bad mode/config, an unbuilt
            model, or (GPTQ/AWQ) no structure, no dataset or tokenizer.
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
    mode = config.mode
    if not getattr(model, "built", True):
        raise ValueError(
            f'Cannot quantize model "{model.name}": it is not built yet. Build it (call it on '
            "data, or `model.build(input_shape)`) first."
        )
    if mode in _CALIBRATORS:
        # Everything the calibration needs is checked before any layer changes.
        structure = config.quantization_layer_structure
        if structure is None:
            structure = model.get_quantization_layer_structure(mode)
        if structure is None:
            raise ValueError(
                f"For mode={mode!r}, a valid quantization structure must be provided either via "
                "`config.quantization_layer_structure` or by overriding "
                "`model.get_quantization_layer_structure(mode)`. The structure should be a "
                "dictionary with keys 'pre_block_layers' and 'sequential_blocks'."
            )
        dataloader = calibration_data(config, structure, mode)
    seen = set()
    for layer in model.modules():
        if not isinstance(layer, Layer) or id(layer) in seen or layer is model:
            continue
        seen.add(id(layer))
        if any(isinstance(sub, Layer) for sub in layer.children()):
            continue  # composite layers: their leaves are visited themselves
        if not should_quantize_layer(layer, filters):
            continue
        if not hasattr(layer, "quantize"):
            # Keras's base `Layer.quantize` raises NotImplementedError, which `model.quantize`
            # turns into this warning for every selected leaf layer it cannot quantize.
            warnings.warn(
                f"Layer {type(layer).__name__} does not have a `quantize` method implemented.",
                stacklevel=3,
            )
            continue
        try:
            layer.quantize(mode, type_check=type_check, config=config)
        except NotImplementedError as error:
            warnings.warn(str(error), stacklevel=3)
    if mode in _CALIBRATORS:
        _CALIBRATORS[mode](dataloader, config, structure, filters=filters)
        left = [layer.name for layer in model.modules()
                if getattr(layer, "_quant_mode", None) == mode and not layer._is_calibrated()]
        if left:
            # Keras leaves them so silently; they compute with their float kernels, and a Keras
            # file has no place for those (saving them raises).
            warnings.warn(
                f"{mode.upper()} put layers {left} in {mode} mode but calibrated none of them "
                "(they are outside the structure's sequential blocks): they keep computing with "
                "their float kernels, which no saved file can hold (Keras files refuse them; a "
                "native file will not load). Leave them out of `model.quantize` with `filters`.",
                stacklevel=3,
            )
