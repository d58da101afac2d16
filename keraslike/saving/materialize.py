"""Building a model from a config without paying for weight initialization it will overwrite.

Loading a model rebuilds it from its config and then fills every weight from the file, so the
initializers' draws (seconds for a large model, and a transient second copy of the largest weight)
are wasted, and a hostile config could name sizes far beyond the file's. `skeleton_build()`
builds the model on the `meta` device (no memory, no compute); the loader checks every weight's
shape against the file's tensors, and only then `materialize()` gives each one fresh,
uninitialized memory that the loader fills straight from the file.

Safety net: a model that cannot be built this way (a layer whose build needs real values, or
that keeps a tensor the file does not hold, such as a non-persistent buffer) is rebuilt the
ordinary way; `check_materializable()` decides.
"""

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

_RANDOM_FACTORIES = frozenset(
    [torch.rand, torch.randn, torch.randint, torch.randperm, torch.normal, torch.bernoulli,
     torch.multinomial, torch.poisson]
)
_RANDOM_IN_PLACE = frozenset(
    [torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.random_, torch.Tensor.bernoulli_,
     torch.Tensor.exponential_, torch.Tensor.log_normal_, torch.Tensor.cauchy_,
     torch.Tensor.geometric_]
)


class _DeferRandomInit(TorchFunctionMode):
    """Random draws produce meta tensors (their values would be overwritten by the file)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _RANDOM_FACTORIES:
            meta_kwargs = {k: v for k, v in kwargs.items() if k != "generator"}
            meta_kwargs["device"] = "meta"
            try:
                return func(*args, **meta_kwargs)
            except (TypeError, RuntimeError):  # a form that takes no `device` (tensor arguments)
                return func(*args, **kwargs)
        if func in _RANDOM_IN_PLACE:
            return args[0]
        return func(*args, **kwargs)


class skeleton_build:
    """Context: tensors created inside it are `meta` (no memory), random draws included.

    A config can name any size (`Dense(units=10**12)`), so nothing is allocated until the
    model's weights have been checked against the file's tensors; `materialize()` then gives
    each weight memory to be filled from the file. A model that keeps tensors the file does not
    hold is rebuilt the ordinary way (see `check_materializable`), after that check.
    """

    def __enter__(self):
        self._device = torch.device("meta")
        self._device.__enter__()
        self._mode = _DeferRandomInit()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)
        self._device.__exit__(*exc)


def _meta_attributes(module):
    for name, value in vars(module).items():
        if isinstance(value, torch.Tensor) and value.is_meta:
            yield name
        elif isinstance(value, (list, tuple)) and any(
            isinstance(v, torch.Tensor) and v.is_meta for v in value
        ):
            yield name


def check_materializable(model, provided):
    """Whether every meta tensor of `model` is a parameter or buffer the file provides.

    Args:
        model: A model built under `skeleton_build()`.
        provided: Set of `id()`s of the tensors the file will fill.

    Returns:
        `(True, None)`, or `(False, reason)`.
    """
    for module_name, module in model.named_modules():
        for name, t in list(module._parameters.items()) + list(module._buffers.items()):
            if t is not None and t.is_meta and id(t) not in provided:
                return False, f"{module_name or 'model'}.{name} is not stored in the file"
        for name in _meta_attributes(module):
            return False, f"{module_name or 'model'}.{name} holds a tensor built from initial values"
    return True, None


def materialize(model, device="cpu"):
    """Replaces every meta parameter and buffer by uninitialized memory on `device`, in place.

    A tensor shared by several modules stays shared. Attributes set on the tensors (such as
    `path`) carry over.

    Returns:
        Dict `id(old tensor) -> new tensor`.
    """
    replaced = {}
    for module in model.modules():
        for table, is_param in ((module._parameters, True), (module._buffers, False)):
            for name, old in list(table.items()):
                if old is None or not old.is_meta:
                    continue
                new = replaced.get(id(old))
                if new is None:
                    # Same strides: layers may store a weight in another memory format
                    # (convolution kernels are channels_last).
                    data = torch.empty_strided(old.shape, old.stride(), dtype=old.dtype, device=device)
                    if is_param:  # keeps the class: a Variable stays a Variable (whatever
                        # its constructor takes: `keras.Variable`'s is Keras's)
                        new = torch.nn.Parameter.__new__(type(old), data, old.requires_grad)
                    else:
                        new = data if type(old) is torch.Tensor else data.as_subclass(type(old))
                    new.__dict__.update(old.__dict__)
                    replaced[id(old)] = new
                table[name] = new
    return replaced
