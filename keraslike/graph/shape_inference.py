"""Output specs of calls on symbolic tensors, found by running the call on `meta` tensors.

Meta tensors carry shapes and dtypes but no memory, and compute nothing. Unknown (`None`)
dimensions are given a placeholder size; the call runs twice with two different placeholders, and
an output dimension that differs between the runs is unknown (`None`) in the result.

A call that cannot run on meta tensors (it reads values: `.item()`, a repeat count computed from
the data, data-dependent shapes) runs instead on small real tensors (on the module's device,
without gradients, with the random state and the module's buffers restored afterwards), with the
same two-placeholder rule for unknown dimensions.
"""

import torch

from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor, symbolic_tensors

_PLACEHOLDER_SIZES = (89, 97)


def torch_dtype(dtype):
    """Returns the `torch.dtype` for a dtype string (or passes a `torch.dtype` through)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None)
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"Unknown dtype: {dtype!r}")
    return resolved


def dtype_name(dtype):
    """Returns the Keras dtype string for a `torch.dtype` (`torch.float32` -> `"float32"`)."""
    return str(dtype).replace("torch.", "")


def _to_meta(tensor, placeholder):
    shape = tuple(placeholder if d is None else d for d in tensor.shape)
    return torch.empty(shape, dtype=torch_dtype(tensor.dtype), device="meta")


def _meta_state(module):
    state = {}
    for name, value in module.named_parameters():
        state[name] = torch.empty_like(value, device="meta")
    for name, value in module.named_buffers():
        state[name] = torch.empty_like(value, device="meta")
    return state


_REAL_DEFAULT_DEVICES = []


def real_default_device():
    """The default device outside shape inference (where new weights must be created).

    `None` when no shape inference is running.
    """
    return _REAL_DEFAULT_DEVICES[-1] if _REAL_DEFAULT_DEVICES else None


def _current_default_device():
    getter = getattr(torch, "get_default_device", None)
    return getter() if getter is not None else torch.device("cpu")


def _run_on_meta(fn, args, kwargs, module, placeholder):
    meta_args, meta_kwargs = nest.map_structure(
        lambda x: _to_meta(x, placeholder) if isinstance(x, KerasTensor) else x, (args, kwargs)
    )
    # Tensors the call creates itself (`torch.zeros(...)` for an initial state) land on meta too.
    # A run nested in another (a subclassed model built from its first batch calls a custom
    # sublayer symbolically) keeps the outer run's real device: the current default is meta.
    _REAL_DEFAULT_DEVICES.append(real_default_device() or _current_default_device())
    try:
        with torch.device("meta"):
            if module is None:
                return fn(*meta_args, **meta_kwargs)
            state = _meta_state(module)
            if not state:
                return fn(*meta_args, **meta_kwargs)
            return torch.func.functional_call(module, state, tuple(meta_args), meta_kwargs)
    finally:
        _REAL_DEFAULT_DEVICES.pop()


def _state_size(module):
    if module is None:
        return 0
    return sum(1 for _ in module.parameters()) + sum(1 for _ in module.buffers())


def _run_with_retries(fn, args, kwargs, module, placeholder):
    # A sublayer built during the run gets real weights, which meta inputs cannot meet; once it
    # exists, a new run swaps its weights for meta ones too. Each retry builds one more sublayer.
    while True:
        before = _state_size(module)
        try:
            return _run_on_meta(fn, args, kwargs, module, placeholder)
        except Exception:
            if _state_size(module) == before:
                raise


_REAL_PLACEHOLDER_SIZES = (2, 3)


def _to_real(tensor, placeholder, device, generator):
    shape = tuple(placeholder if d is None else d for d in tensor.shape)
    dtype = torch_dtype(tensor.dtype)
    if dtype.is_floating_point or dtype.is_complex:
        return torch.rand(shape, generator=generator, dtype=dtype).to(device)
    return torch.zeros(shape, dtype=dtype, device=device)


def _run_on_real(fn, args, kwargs, module, placeholder):
    device = next((p.device for p in module.parameters()), None) if module is not None else None
    generator = torch.Generator().manual_seed(0)
    real_args, real_kwargs = nest.map_structure(
        lambda x: _to_real(x, placeholder, device or "cpu", generator)
        if isinstance(x, KerasTensor)
        else x,
        (args, kwargs),
    )
    saved = (
        {name: b.clone() for name, b in module.named_buffers()} if module is not None else {}
    )
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            return fn(*real_args, **real_kwargs)
    finally:
        if saved:  # e.g. BatchNormalization's moving statistics
            buffers = dict(module.named_buffers())
            with torch.no_grad():
                for name, value in saved.items():
                    if name in buffers and buffers[name].shape == value.shape:
                        buffers[name].copy_(value)


def _merge_leaf(first, second):
    if isinstance(first, torch.Tensor):
        shape = tuple(a if a == b else None for a, b in zip(first.shape, second.shape))
        return KerasTensor(shape, dtype=dtype_name(first.dtype))
    return first


def infer_output_spec(fn, args, kwargs, module=None, description=None):
    """Returns the structure of KerasTensors that `fn(*args, **kwargs)` would return.

    Args:
        fn: The callable to run.
        args: Positional arguments, with KerasTensors at some leaves.
        kwargs: Keyword arguments, with KerasTensors at some leaves.
        module: The `nn.Module` whose parameters and buffers `fn` uses; they are replaced by meta
            tensors for the run.
        description: How to name the callable in error messages.
    """
    has_unknown = any(None in x.shape for x in symbolic_tensors((args, kwargs)))
    sizes = _PLACEHOLDER_SIZES if has_unknown else _PLACEHOLDER_SIZES[:1]
    try:
        runs = [_run_with_retries(fn, args, kwargs, module, size) for size in sizes]
    except Exception as error:
        real_sizes = _REAL_PLACEHOLDER_SIZES if has_unknown else _REAL_PLACEHOLDER_SIZES[:1]
        try:
            runs = [_run_on_real(fn, args, kwargs, module, size) for size in real_sizes]
        except Exception:
            runs = None
        if runs is None:
            _raise_inference_error(error, fn, args, kwargs, description)
    if len(runs) == 1:
        runs.append(runs[0])
    first, second = (nest.flatten(r) for r in runs)
    return nest.pack_like(runs[0], [_merge_leaf(a, b) for a, b in zip(first, second)])


def _raise_inference_error(error, fn, args, kwargs, description):
    shapes = [x.shape for x in symbolic_tensors((args, kwargs))]
    what = description or getattr(fn, "__name__", repr(fn))
    raise type(error)(
        f"Could not compute the output shape of {what} on inputs of shapes {shapes}: {error}. "
        "It fails on shape-only ('meta') tensors and on small real ones; if the call is "
        "correct, define `compute_output_shape(input_shape)` on the layer."
    ) from error
