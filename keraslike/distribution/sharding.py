"""FSDP2 (`torch.distributed.fsdp.fully_shard`) for `ModelParallel`, and full tensors for saving.

`shard_model` applies `fully_shard` to every layer that holds weights directly, then to the
model (the root), over the distribution's mesh: a 1-D mesh shards every weight along its first
dimension over all processes; a 2-D `(batch, model)` mesh is HSDP (replicas along `batch`,
shards along `model`). Weights become `DTensor`s; each process keeps its shard and FSDP
all-gathers a layer's weights around its forward and backward, reduce-scattering gradients.

`full_weights(model)` is the other direction, for saving: within it, the model's weights and its
optimizer's state are ordinary full tensors (gathered with `DTensor.full_tensor()`, a collective
every process must join), so every saving format and `get_weights()` work unchanged.
"""

import contextlib
import sys

import torch

from keraslike.distribution.runtime import rank

# torch.distributed.fsdp and .tensor take seconds to import: imported when first sharding.


def is_sharded(model):
    """Whether `model` was sharded with FSDP2."""
    fsdp = sys.modules.get("torch.distributed.fsdp")  # not imported: nothing is sharded
    return fsdp is not None and isinstance(model, fsdp.FSDPModule)


def shard_model(model, mesh):
    """Shards `model` in place with FSDP2 over `mesh` (a `torch.distributed` DeviceMesh).

    Each module that holds parameters of its own becomes one FSDP unit (all-gathered around
    its own forward), the model the root unit. The parameters are replaced by `DTensor`
    parameters: state gathered before sharding (an optimizer built on the old tensors) no
    longer refers to them.
    """
    from torch.distributed.fsdp import fully_shard

    if is_sharded(model):
        return model
    units = [
        module
        for module in model.modules()
        if module is not model and any(True for _ in module.parameters(recurse=False))
    ]
    before = [(m, name, p) for m in model.modules() for name, p in m._parameters.items() if p is not None]
    for _, _, param in before:
        if not param.is_contiguous():
            # FSDP2 shards contiguous tensors only; a model moved to
            # `memory_format=torch.channels_last` has channels_last kernels (same values).
            param.data = param.data.contiguous()
    for module in units:
        fully_shard(module, mesh=mesh)
    fully_shard(model, mesh=mesh)
    for module, name, old in before:
        # What keraslike keeps on a weight (its Keras `path`, `constraint`, ...) moves to the
        # sharded parameter that replaces it.
        new = module._parameters.get(name)
        if new is not None and new is not old:
            for key, value in vars(old).items():
                if key not in vars(new):
                    setattr(new, key, value)
            if getattr(old, "path", None) is not None and "path" not in vars(new):
                new.path = old.path  # the name optimizer slots take (`dense_kernel_momentum`)
    return model


@contextlib.contextmanager
def full_weights(model):
    """Within the block, `model`'s sharded weights and its optimizer's sharded state are full,
    ordinary tensors; the sharded ones are put back afterwards.

    Every process must enter it (the gathering is a collective). Yields whether this process
    should write the files of a save: rank 0 of a sharded model; any process otherwise
    (nothing is gathered then).

    Example:

    ```python
    with keras.distribution.full_weights(model):
        weights = model.get_weights()
    ```
    """
    swapped = []
    slots = []
    classes = []
    if is_sharded(model):
        from torch.distributed.fsdp import FSDPModule
        from torch.distributed.tensor import DTensor

        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, FSDPModule):
                    # FSDP2 gave the module a class `FSDP<Name>(FSDPModule, <Name>)`: configs
                    # name the original class.
                    cls = type(module)
                    classes.append((module, cls))
                    module.__class__ = next(b for b in cls.__bases__ if b is not FSDPModule)
                for name, param in list(module._parameters.items()):
                    if isinstance(param, DTensor):
                        full = torch.nn.Parameter(param.full_tensor(), requires_grad=param.requires_grad)
                        module._parameters[name] = full
                        swapped.append((module, name, param))
            optimizer = getattr(model, "optimizer", None)
            variables = getattr(optimizer, "_variables", None) or []
            for i, tensor in enumerate(variables):
                if isinstance(tensor, DTensor):
                    variables[i] = tensor.full_tensor()
                    slots.append((variables, i, tensor))
            # The optimizer's references to the weights (savers find a slot's layout by them).
            full_of = {id(param): module._parameters[name] for module, name, param in swapped}
            trainable = getattr(optimizer, "_trainable_variables", None) or []
            for i, tensor in enumerate(trainable):
                if id(tensor) in full_of:
                    trainable[i] = full_of[id(tensor)]
                    slots.append((trainable, i, tensor))
    try:
        yield not swapped or rank() == 0
    finally:
        for module, cls in classes:
            module.__class__ = cls
        for module, name, param in swapped:
            module._parameters[name] = param
        for variables, i, tensor in slots:
            variables[i] = tensor
