"""GPTQ calibration of a model, block by block, as Keras 3.15's `gptq_core.py` does it.

`model.quantize("gptq", config=GPTQConfig(...))` checks the config and structure and cuts the
calibration text (or token arrays) into `num_samples` windows of `sequence_length` tokens
(`calibration_data`), puts every selected Dense/EinsumDense in GPTQ mode, then calibrates
(`apply_gptq_layerwise`): the windows run through the structure's `pre_block_layers`; then each
of its `sequential_blocks` in turn is run on every sample with forward pre-hooks that stream each
target layer's inputs into its Hessian, the target layers are quantized, and the (now quantized)
block's outputs feed the next block. AWQ (`awq_core.py`) shares the loop (`calibrate_blocks`).

This module knows layers only by what they declare (`_calibration_kernel`, `_store_calibrated`,
`_is_calibrated`, `_quant_mode`), so `quantizers/` stays below `layers/`.
"""

import contextlib
import math
import re

import numpy as np
import torch

from keraslike.graph import hook_registry
from keraslike.quantizers.gptq import GPTQ


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


def get_dataloader(tokenizer, sequence_length, dataset, num_samples=128, *, strategy="strided",
                   seed=42, stride=None, eos_id=None):
    """Calibration windows: an int32 array `(num_samples, 1, sequence_length)`, as Keras cuts them.

    Strings are tokenized with `tokenizer.tokenize` (with `eos_id` between documents when given),
    arrays are flattened; everything is joined, repeated until long enough, and `num_samples`
    windows are taken: `"strided"` (the default) at a stride from an offset derived from
    `hash(("gptq-calib", seed))`, exactly as Keras does (so, as in Keras, the windows depend on
    Python's string hashing, i.e. on `PYTHONHASHSEED`); `"linspace"` evenly spread; `"random"`
    from `numpy.random.default_rng(seed)`.

    Raises:
        TypeError: When `dataset` is not an iterable (or is a string).
        ValueError: When it is empty or too short for one window, or for an unknown strategy.
    """
    if not hasattr(dataset, "__iter__") or isinstance(dataset, (str, bytes)):
        raise TypeError(
            "The `dataset` argument must be an iterable (e.g., a list of strings, a generator, "
            f"or a NumPy array). Got type: {type(dataset).__name__}. Please pass the loaded "
            "dataset directly."
        )
    items = list(dataset)
    if not items:
        raise ValueError("Provided dataset is empty.")
    pieces = []
    strings = isinstance(items[0], str)
    for i, item in enumerate(items):
        if strings:
            item = tokenizer.tokenize(item)
        if isinstance(item, torch.Tensor):
            item = item.detach().cpu().numpy()
        pieces.append(np.asarray(item).reshape(-1).astype(np.int32, copy=False))
        if strings and eos_id is not None and i < len(items) - 1:
            pieces.append(np.array([eos_id], dtype=np.int32))
    tokens = pieces[0] if len(pieces) == 1 else np.concatenate(pieces).astype(np.int32)
    required = num_samples * sequence_length
    if tokens.size < required:
        tokens = np.tile(tokens, math.ceil(required / max(1, tokens.size)))
    max_start = tokens.size - sequence_length
    if max_start < 0:
        raise ValueError(
            f"Not enough tokens to form one sample of length {sequence_length} "
            f"(have {tokens.size})."
        )
    if strategy == "random":
        starts = np.random.default_rng(seed).integers(0, max_start + 1, size=num_samples,
                                                      dtype=np.int64)
    elif strategy == "linspace":
        starts = np.linspace(0, max_start, num_samples, dtype=np.int64)
    elif strategy == "strided":
        if stride is None:
            stride = max(1, (max_start + 1) // num_samples)
        offset = abs(hash(("gptq-calib", seed))) % (max_start + 1) if max_start > 0 else 0
        starts = (offset + np.arange(num_samples, dtype=np.int64) * stride) % (max_start + 1)
    else:
        raise ValueError(f"Unknown strategy: {strategy}")
    windows = np.lib.stride_tricks.sliding_window_view(tokens, sequence_length)
    return windows[starts].astype(np.int32)[:, None, :]


def _leaves(layer):
    """`layer` and every layer under it, each once, in module order."""
    seen = set()
    for module in layer.modules():
        if id(module) in seen or not hasattr(module, "quantization_mode"):
            continue
        seen.add(id(module))
        yield module


def find_layers_in_block(block, mode, filters=None):
    """The block's calibratable leaf layers in `mode`, keyed by their paths.

    A layer qualifies when it was put in `mode` by `layer.quantize(mode, ...)` and still has its
    float kernel (`_calibration_kernel`), and `filters` selects it.
    """
    found = {}
    for layer in _leaves(block):
        if getattr(layer, "_quant_mode", None) != mode or not hasattr(layer, "_store_calibrated"):
            continue
        if layer._is_calibrated() or not should_quantize_layer(layer, filters):
            continue
        found[getattr(layer, "path", None) or layer.name] = layer
    return found


@contextlib.contextmanager
def stream_inputs(layers, sinks):
    """Within the block, each layer's first input goes to `sinks[name](x)` before its call."""
    handles = []

    def hook_for(name):
        def hook(module, args, kwargs):
            sinks[name](args[0] if args else kwargs["inputs"])

        return hook

    try:
        for name, layer in layers.items():
            handles.append(layer.register_forward_pre_hook(hook_for(name), with_kwargs=True))
        yield
    finally:
        for handle in handles:
            handle.remove()
        hook_registry.bump()  # plans that took the hooked path may call the layers directly again


def run_block(block, x):
    """One eager inference call of a block on one sample (rank-2 samples get a batch axis)."""
    if x.ndim == 2:
        x = x.unsqueeze(0)
    return block(x, training=False)


def _device_of(structure):
    """Where the structure's weights live (the calibration samples go there)."""
    for layer in list(structure.get("pre_block_layers", [])) + list(structure["sequential_blocks"]):
        for tensor in list(layer.parameters()) + list(layer.buffers()):
            return tensor.device
    return None


def pre_block_inputs(dataloader, structure):
    """The samples after the structure's `pre_block_layers`, one tensor per sample."""
    device = _device_of(structure)
    inputs = []
    for batch in dataloader:
        x = torch.as_tensor(np.asarray(batch), dtype=torch.int32, device=device)
        for layer in structure.get("pre_block_layers", []):
            x = layer(x)
        inputs.append(x)
    return inputs


_MISSING_DATA = {
    "gptq": "GPTQ quantization requires a dataset and a tokenizer. Please provide them in the "
            "`GPTQConfig`.",
    "awq": "AWQ quantization requires a dataset and tokenizer. Please provide them in the "
           "AWQConfig.",
}
_NO_BLOCKS = {
    "gptq": "No sequential blocks found in the provided structure to quantize.",
    "awq": "No sequential blocks found in the structure to quantize.",
}


def check_structure(structure, mode):
    """The structure's blocks; raises Keras's ValueError when there are none."""
    if not isinstance(structure, dict):
        raise ValueError(
            "The quantization structure must be a dictionary with keys 'pre_block_layers' and "
            f"'sequential_blocks'. Received: {type(structure).__name__}"
        )
    blocks = structure.get("sequential_blocks", [])
    if not blocks:
        raise ValueError(_NO_BLOCKS[mode])
    return blocks


def calibration_data(config, structure, mode):
    """Checks the config's dataset/tokenizer and the structure, and cuts the calibration windows.

    `model.quantize` calls it before it converts any layer, so bad input leaves the model as it
    was (Keras converts the layers first).

    Raises:
        ValueError: Without a dataset or tokenizer, a structure without blocks, or too little
            data. TypeError: For a dataset that is not an iterable.
    """
    if config.dataset is None or config.tokenizer is None:
        raise ValueError(_MISSING_DATA[mode])
    check_structure(structure, mode)
    dataloader = get_dataloader(
        config.tokenizer, config.sequence_length, config.dataset, num_samples=config.num_samples
    )
    return dataloader[: config.num_samples]


def calibrate_blocks(dataloader, structure, mode, num_samples, make_state, filters=None):
    """The block-by-block loop GPTQ and AWQ share.

    Args:
        dataloader: Token windows `(samples, 1, sequence_length)`.
        structure: `{"pre_block_layers": [...], "sequential_blocks": [...]}`.
        mode: `"gptq"` or `"awq"`: the layers in that mode are calibrated.
        num_samples: At most this many samples are used.
        make_state: `layer -> state` with `rows`, `observe(x2d)`, `quantize()`, `free()`.
        filters: Which layers to calibrate (see `should_quantize_layer`).
    """
    blocks = check_structure(structure, mode)
    with torch.no_grad():
        inputs = pre_block_inputs(dataloader, structure)
        num_samples = min(num_samples, len(inputs))
        for index, block in enumerate(blocks):
            targets = find_layers_in_block(block, mode, filters)
            if targets:
                states = {name: make_state(layer) for name, layer in targets.items()}
                sinks = {name: _flat_sink(state) for name, state in states.items()}
                with stream_inputs(targets, sinks):
                    for i in range(num_samples):
                        run_block(block, inputs[i])
                for state in states.values():
                    state.quantize()
                    state.free()
            if index < len(blocks) - 1:
                inputs = [run_block(block, inputs[i])[0] for i in range(num_samples)]


def _flat_sink(state):
    # Keras flattens each input to `(-1, rows)`: an attention output's `(..., heads, head_dim)`
    # inputs become `heads * head_dim` features.
    return lambda x: state.observe(x.reshape(-1, state.rows))


class _GPTQState(GPTQ):
    def observe(self, x):
        self.update_hessian_with_batch(x)

    def quantize(self):
        self.quantize_and_correct_layer()


def apply_gptq_layerwise(dataloader, config, structure, filters=None):
    """Calibrates and quantizes the structure's blocks one after the other with GPTQ.

    Raises:
        ValueError: When the structure has no sequential blocks.
    """
    calibrate_blocks(dataloader, structure, "gptq", config.num_samples,
                     lambda layer: _GPTQState(layer, config), filters)


def gptq_quantize(config, structure, filters=None):
    """Runs GPTQ calibration for `model.quantize("gptq", config)` on a resolved structure.

    Raises:
        ValueError: Without a dataset/tokenizer, or a usable structure.
    """
    dataloader = calibration_data(config, structure, "gptq")
    apply_gptq_layerwise(dataloader, config, structure, filters=filters)
