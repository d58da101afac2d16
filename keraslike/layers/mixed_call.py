"""Calls of layers under a mixed precision policy (`"mixed_float16"`, `"mixed_bfloat16"`), with
Keras 3's dtypes.

Keras casts a mixed layer's floating inputs and float32 variables to the compute dtype, so every
layer's outputs are in the compute dtype (eagerly as symbolically), and a layer with a float
policy (`Dense(10, dtype="float32")`, Keras's advice for a model's last layer) computes in
float32 even inside a mixed model. keraslike keeps float32 weights and lets `torch.autocast` cast
them: a mixed layer's call runs under `torch.autocast(compute dtype)` (entered by the outermost
mixed call; `fit`, `evaluate` and `predict` enter one for the whole step) and its floating
outputs are cast to the compute dtype (torch's autocast keeps softmax, normalizations and
lookups in float32; Keras's layers do not). Inside such a mixed call, a layer with a float
policy runs with autocast off, so it computes in its own dtype, as in Keras.

A mixed layer made with `autocast=False` gets neither: Keras leaves its inputs as they come and
its float32 variables uncast inside a model (its call clears the autocast scope), and its ops
promote (`matmul(float16, float32)` computes in float32), so it computes in float32 and returns
what its ops return. keraslike runs its call with torch's autocast off and, since torch's
kernels (`F.linear`, convolutions) do not promote, first promotes its floating inputs to the
result type with its floating weights' dtype (`uncast_call`).

Float layers need that guard only once a mixed layer exists in the process, and in execution
plans only where a graph feeds them half-precision tensors (`Layer._note_half_inputs`, at the
symbolic call): float graphs keep calling their layers directly (and fusing them, see
`graph/fusion.py`). Both facts bump the hook version when they first hold, so plans re-derive
their steps.
"""

import torch

from keraslike.graph import hook_registry, nest
from keraslike.graph.plan import cast_floating, with_mask_of

_AUTOCAST_DEVICES = ("cpu", "cuda")


class _State:
    __slots__ = ("mixed_layers_exist", "depth", "dtype")

    def __init__(self):
        self.mixed_layers_exist = False  # set once, when the first mixed layer is made
        self.depth = 0  # nesting of mixed calls running now (their autocast is keraslike's)
        self.dtype = None  # the autocast dtype of the outermost mixed call running now


_state = _State()


def note_mixed_layer():
    """Records that a layer with a mixed policy exists (float layers then get their guard)."""
    if not _state.mixed_layers_exist:
        _state.mixed_layers_exist = True
        hook_registry.bump()


def mixed_layers_exist():
    """Whether a layer with a mixed policy was made in this process."""
    return _state.mixed_layers_exist


def _device_type(args, kwargs):
    first = args[0] if args else None
    if isinstance(first, torch.Tensor):
        return first.device.type
    for x in nest.flatten((args, kwargs)):
        if isinstance(x, torch.Tensor):
            return x.device.type
    return None


def _autocasting(device_type, dtype):
    """Whether torch's autocast is already on for `device_type` with `dtype`."""
    return torch.is_autocast_enabled(device_type) and torch.get_autocast_dtype(device_type) == dtype


def mixed_call(fn, dtype, cast_outputs=True):
    """`fn` as a mixed layer's call: under `torch.autocast(dtype)` (unless one is already on),
    floating outputs cast to `dtype` (with `cast_outputs`; a model's outputs are its layers')."""

    def call(*args, **kwargs):
        if _state.depth and _state.dtype is dtype:  # inside a mixed call of this dtype (a
            _state.depth += 1                         # model's layers): its autocast holds
            try:
                outputs = fn(*args, **kwargs)
            finally:
                _state.depth -= 1
            return cast_floating(outputs, dtype) if cast_outputs else outputs
        device_type = _device_type(args, kwargs)
        depth, outer = _state.depth, _state.dtype
        _state.depth, _state.dtype = depth + 1, dtype
        try:
            if device_type not in _AUTOCAST_DEVICES or _autocasting(device_type, dtype):
                outputs = fn(*args, **kwargs)  # (`meta` tensors of shape inference: no autocast)
            else:
                with torch.autocast(device_type, dtype=dtype):
                    outputs = fn(*args, **kwargs)
        finally:
            _state.depth, _state.dtype = depth, outer
        return cast_floating(outputs, dtype) if cast_outputs else outputs

    return call


def float_call(fn, in_mixed_graph=False):
    """`fn` as a float-policy layer's call: with autocast off inside a mixed call, or under any
    autocast for a layer of a mixed graph (`predict` runs a plan under autocast without a
    model call), so the layer computes in its own dtype, as Keras's do; elsewhere (a user's own
    `torch.autocast` around float layers) unchanged."""

    def call(*args, **kwargs):
        if _state.depth == 0 and not in_mixed_graph:
            return fn(*args, **kwargs)
        device_type = _device_type(args, kwargs)
        if device_type not in _AUTOCAST_DEVICES or not torch.is_autocast_enabled(device_type):
            return fn(*args, **kwargs)
        depth, outer = _state.depth, _state.dtype
        _state.depth, _state.dtype = 0, None
        try:
            with torch.autocast(device_type, enabled=False):
                return fn(*args, **kwargs)
        finally:
            _state.depth, _state.dtype = depth, outer

    return call


def _promote_floating(structure, dtype):
    """`structure` with each floating tensor cast to its result type with `dtype` (Keras's
    promotion: float16 or bfloat16 with float32 is float32; float64 stays float64)."""

    def promote(x):
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            target = torch.promote_types(x.dtype, dtype)
            if target is not x.dtype:
                return with_mask_of(x.to(target), x)
        return x

    return nest.map_structure(promote, structure)


def uncast_call(fn, weights_dtype):
    """`fn` as the call of a mixed layer made with `autocast=False`: torch's autocast off, so its
    float32 weights are used as they are (Keras clears its autocast scope inside a model), and
    its floating inputs promoted to their result type with `weights_dtype()` (the dtype of the
    layer's own floating weights, `None` for a layer without any: its inputs pass as they are),
    which Keras's ops do inside and torch's kernels do not. Outputs are what the call returns.
    Keras casts the variables to the compute dtype in a direct call outside any model; here a
    direct call computes with the float32 weights too."""

    def call(*args, **kwargs):
        dtype = weights_dtype()
        if dtype is not None:
            args, kwargs = _promote_floating((args, kwargs), dtype)
        device_type = _device_type(args, kwargs)
        depth, outer = _state.depth, _state.dtype
        _state.depth, _state.dtype = 0, None  # mixed sublayers enter their own autocast
        try:
            if device_type in _AUTOCAST_DEVICES and torch.is_autocast_enabled(device_type):
                with torch.autocast(device_type, enabled=False):
                    return fn(*args, **kwargs)
            return fn(*args, **kwargs)
        finally:
            _state.depth, _state.dtype = depth, outer

    return call
