"""Which calls of a layer created under a `keras.RematScope` are rematerialized, and how.

`Layer.__init__` records the scope's `RematMode` (or `None`); a layer with one runs its calls
through `forward` (plans do not call `call` directly), and `forward` asks `remat_call` for the
function to run. Nothing is decided when gradients are off: recomputation only matters for a
backward pass.
"""

import functools
import math

import torch

from keraslike.backend.remat import remat
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.shape_inference import dtype_name


def remat_call(layer, args, kwargs):
    """`layer.call`, or a rematerialized version of it per the layer's `RematMode`."""
    mode = layer._remat_mode
    if mode is None or mode.mode is None or not torch.is_grad_enabled():
        return layer.call
    leaves = [x for x in nest.flatten((args, kwargs)) if isinstance(x, torch.Tensor)]
    if any(x.device.type == "meta" for x in leaves):
        return layer.call  # shape inference: nothing to recompute
    if mode.mode == "full":
        return remat(layer.call)
    if mode.mode == "list_of_layers":
        return remat(layer.call) if layer.name in mode.layer_names else layer.call
    if mode.mode == "activations":
        # Built-in layers call the activation's runtime form `_act` (None when linear, which
        # has nothing to recompute); other layers call `activation`.
        attr = "_act" if "_act" in layer.__dict__ else "activation"
        if getattr(layer, attr, None) is None:
            return layer.call
        return _with_remat_activation(layer, attr)
    if _output_size(layer, args, kwargs) > mode.output_size_threshold:  # "larger_than"
        return remat(layer.call)
    return layer.call


def _with_remat_activation(layer, attr):
    @functools.wraps(layer.call)
    def call(*args, **kwargs):
        activation = getattr(layer, attr)
        setattr(layer, attr, remat(activation))
        try:
            return layer.call(*args, **kwargs)
        finally:
            setattr(layer, attr, activation)

    return call


def _output_size(layer, args, kwargs):
    """Elements of the call's outputs (unknown dimensions count as 1), cached per input shapes."""
    key = tuple(
        (tuple(x.shape), x.dtype) if isinstance(x, torch.Tensor) else None
        for x in nest.flatten((args, kwargs))
    )
    cache = layer.__dict__.setdefault("_remat_output_sizes", {})
    size = cache.get(key)
    if size is None:
        symbolic = nest.map_structure(
            lambda x: KerasTensor(tuple(x.shape), dtype_name(x.dtype))
            if isinstance(x, torch.Tensor) else x,
            (args, kwargs),
        )
        spec = layer.compute_output_spec(*symbolic[0], **symbolic[1])
        size = sum(
            math.prod(d or 1 for d in t.shape)
            for t in nest.flatten(spec) if isinstance(t, KerasTensor)
        )
        cache[key] = size
    return size
