"""`predict` / `predict_on_batch` on one numpy array without the loop's machinery.

When nothing but the model's plan would run (a graph model whose call is keraslike's, the
built-in `predict_step`, no callbacks, no progress bar, no hooks, not data-parallel, the model in
inference mode), predicting is: `torch.from_numpy` (no copy), the plan under `torch.no_grad()`,
and one copy back to numpy. Everything the loop would decide per call is decided once per model
and cached in a `DirectPredict`, which names what invalidates it:

- `hook_registry.version` (hooks registered, layers built, activity regularizers, dtype
  policies changed) and the plan object (a Sequential that grew a layer);
- the device of one probe weight (read per call): a model moved with `.to()` is seen at once.
  A model on the CPU of a machine with CUDA takes the loop (which moves it, as Keras would).

Any input this path does not take exactly as the loop would (another dtype than the Input's,
float64 into a float32 Input excepted; a rank to adjust; a non-contiguous or read-only array;
several inputs) goes to the loop, so results are the same on both paths.
"""

import numpy as np
import torch

from keraslike.graph import hook_registry, nest
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import WeightProbe
from keraslike.ops.core import tensor_to_numpy
from keraslike.trainers import step_state


class DirectPredict:
    """Per-model facts for the direct path (see the module docstring)."""

    __slots__ = ("version", "plan", "probe", "device", "np_dtype", "cast", "autocast")

    def __init__(self, model, probe, device):
        self.version = hook_registry.version
        self.plan = model._plan
        self.probe = probe  # a WeightProbe of the model's weights
        self.device = device
        dtype = model._input_dtypes[0]
        self.np_dtype = _NUMPY_DTYPES.get(dtype)
        # float64 data into a float32 Input: the loop casts it to float32 too (one rounding).
        self.cast = dtype if dtype is torch.float32 else None
        mixed = sorted(
            {m._dtype_policy_name for m in model.modules() if isinstance(m, Layer)}
            & _MIXED_POLICIES
        )
        self.autocast = getattr(torch, mixed[0].split("_", 1)[1]) if mixed else None



_NUMPY_DTYPES = {
    torch.float32: np.dtype("float32"),
    torch.float64: np.dtype("float64"),
    torch.float16: np.dtype("float16"),
    torch.int32: np.dtype("int32"),
    torch.int64: np.dtype("int64"),
    torch.uint8: np.dtype("uint8"),
    torch.bool: np.dtype("bool"),
}
_MIXED_POLICIES = {"mixed_float16", "mixed_bfloat16"}
_WHERE_WEIGHTS_ARE = object()  # "not now, because of where the weights are": not cached


def _eligible(model, builtin):
    """Whether predicting with `model` is running its plan and nothing else (cached per model)."""
    cls = type(model)
    return (
        getattr(model, "_plan", None) is not None
        and len(model._flat_inputs) == 1
        and step_state._plan_is_the_call(model)
        and builtin(cls)
    )


def _build(model, builtin):
    if not _eligible(model, builtin):
        return None
    devices = {t.device for t in model.parameters()} | {t.device for t in model.buffers()}
    if not devices:
        return None  # no weight to tell the device by
    if len(devices) != 1:
        return _WHERE_WEIGHTS_ARE  # weights on several devices: the loop moves them together
    device = devices.pop()
    probe = WeightProbe()
    if device.type == "cpu" and torch.cuda.is_available():
        return _WHERE_WEIGHTS_ARE  # the loop moves the model to CUDA first, as `fit` would
    return DirectPredict(model, probe, device)


def lookup(model, builtin):
    """The model's `DirectPredict`, or `None` when predicting must take the loop.

    Args:
        model: The model.
        builtin: `cls -> bool`: whether the class keeps the built-in predict step and function.
    """
    cached = model.__dict__.get("_direct_predict")
    if cached is None or cached[0] != hook_registry.version or cached[1] is not getattr(model, "_plan", None):
        facts = _build(model, builtin)
        if facts is _WHERE_WEIGHTS_ARE:
            return None  # decided again next time: the loop may move the model meanwhile
        cached = (hook_registry.version, getattr(model, "_plan", None), facts)
        model.__dict__["_direct_predict"] = cached
    facts = cached[2]
    if facts is None:
        return None
    if facts.probe.device(model) != facts.device:
        model.__dict__["_direct_predict"] = None  # moved, or weights replaced: decide again
        return None
    if (
        model.training
        or model._forward_hooks
        or model._forward_pre_hooks
        or hook_registry.global_hooks_active()
        or torch.distributed.is_available() and torch.distributed.is_initialized()
    ):
        return None
    return facts


def predict(model, facts, x, batch_size):
    """The model's outputs for the array `x` as numpy arrays, or `None` when `x` must take the
    loop (see the module docstring)."""
    if type(x) is not np.ndarray:
        return None
    rank, sizes = model._input_checks[0]
    if x.ndim != rank or not x.flags.c_contiguous or not x.flags.writeable:
        return None
    shape = x.shape
    for axis, size in sizes:
        if shape[axis] != size:
            return None
    n = shape[0]
    if n == 0:
        return None
    if x.dtype == facts.np_dtype:
        cast = None
    elif x.dtype == np.float64 and facts.cast is not None:
        cast = facts.cast
    else:
        return None
    tensor = torch.from_numpy(x)
    device = facts.device
    if device.type != "cpu" or cast is not None:
        tensor = tensor.to(device=device, dtype=cast)
    plan = facts.plan
    # `torch.no_grad()` by hand: its context manager costs a few percent of a batch-1 MLP call.
    grad_was_enabled = torch.is_grad_enabled()
    torch._C._set_grad_enabled(False)
    try:
        if facts.autocast is not None:
            with torch.autocast(device_type=device.type, dtype=facts.autocast):
                flat = _run(plan, tensor, n, batch_size)
        else:
            flat = _run(plan, tensor, n, batch_size)
    finally:
        torch._C._set_grad_enabled(grad_was_enabled)
    arrays = [_to_numpy(t) for t in flat]
    if model._single_output:
        return arrays[0]
    return nest.pack_like(model._outputs_struct, arrays)


def _to_numpy(tensor):
    """An output as a NumPy array of its own: on the CPU a copy, since an output may be a view
    of the input or of a weight (as the loop's concatenation gave)."""
    if tensor.device.type == "cpu" and tensor.dtype in _NUMPY_DTYPES:  # NumPy holds them as is
        return tensor.detach().numpy().copy()  # (an output may be a weight itself)
    array = tensor_to_numpy(tensor)
    return np.array(array) if tensor.device.type == "cpu" else array


def _run(plan, tensor, n, batch_size):
    if n <= batch_size:
        return plan.run([tensor], False)
    parts = [plan.run([tensor[start : start + batch_size]], False) for start in range(0, n, batch_size)]
    return [torch.cat([p[i] for p in parts]) for i in range(len(parts[0]))]
