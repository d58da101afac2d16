"""The `torch.distributed` facts and collectives the trainer uses for data-parallel training.

Everything here is a thin use of `torch.distributed` (no home-made collective algorithms):
whether a process group with more than one process is running, this process's rank, a
permutation broadcast from rank 0, a `DistributedDataParallel` wrapper whose gradient
reduction weighs each rank by its share of the global batch (exact means when the last batch splits unevenly), sums of
metric state, and gathering of variable-length prediction rows.
"""

import torch
import torch.distributed as dist


def is_distributed():
    """Whether a `torch.distributed` process group with more than one process is initialized."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_initialized():
    """Whether a `torch.distributed` process group is initialized (of any size)."""
    return dist.is_available() and dist.is_initialized()


def world_size():
    """Number of processes (1 outside `torch.distributed`)."""
    return dist.get_world_size() if is_distributed() else 1


def rank():
    """This process's rank (0 outside `torch.distributed`)."""
    return dist.get_rank() if is_distributed() else 0


def collective_device():
    """The device collectives run on: CUDA for NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def broadcast_permutation(n, device, draw=None):
    """A permutation of `n` drawn on rank 0 (from the same generator one process would draw it
    from: `draw()` when given, else `torch.randperm(n, device=device)`) and broadcast to every
    rank: the same order everywhere."""
    if rank() == 0:
        order = draw().to(device) if draw is not None else torch.randperm(n, device=device)
    else:
        order = torch.empty(n, dtype=torch.int64, device=device)
    shared = order.to(collective_device())
    dist.broadcast(shared, src=0)
    return shared.to(device)


def broadcast_order(indices):
    """Rank 0's `indices` (a list of ints) on every rank: an order drawn on each rank as one
    process draws it, rank 0's kept everywhere."""
    shared = torch.tensor(indices, dtype=torch.int64, device=collective_device())
    dist.broadcast(shared, src=0)
    return shared.tolist()


def agree_any(flag):
    """`True` on every rank when `flag` is true on any rank (e.g. `stop_training`)."""
    value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=collective_device())
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def all_reduce_sum_(tensors):
    """Sums each tensor over all ranks, in place."""
    for tensor in tensors:
        if tensor.device.type == "cpu" and dist.get_backend() == "nccl":
            moved = tensor.to(collective_device())
            dist.all_reduce(moved)
            tensor.copy_(moved)
        else:
            dist.all_reduce(tensor)


def all_gather_rows(tensor):
    """The rows of `tensor` from every rank, as a list in rank order (row counts may differ)."""
    device = collective_device()
    local = tensor.to(device)
    count = torch.tensor([local.shape[0]], dtype=torch.int64, device=device)
    counts = [torch.zeros_like(count) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, count)
    counts = [int(c.item()) for c in counts]
    longest = max(counts)
    padded = torch.zeros((longest,) + tuple(local.shape[1:]), dtype=local.dtype, device=device)
    padded[: local.shape[0]] = local
    gathered = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(gathered, padded)
    return [g[:n].to(tensor.device) for g, n in zip(gathered, counts)]


class BatchShare:
    """This rank's share of the current global batch (`local / global` samples), which the
    gradient reduction multiplies each rank's gradient by before summing."""

    def __init__(self):
        self.value = 1.0 / max(world_size(), 1)
        self.loss_weight = 1.0  # used instead of `value` when micro-steps weigh their losses
        self.even_only = None  # a model name: shares must be equal (FSDP2 with a custom step)


def _weighted_sum_hook(share, bucket):
    buffer = bucket.buffer()
    buffer.mul_(share.value)
    future = dist.all_reduce(buffer, async_op=True).get_future()
    return future.then(lambda fut: fut.value()[0])


def data_parallel(model, device, find_unused_parameters=False):
    """Wraps `model` in `DistributedDataParallel` (parameters broadcast from rank 0) whose
    gradients are summed with each rank weighted by its `BatchShare`.

    Returns:
        `(ddp_module, share)`; set `share.value = local_samples / global_samples` per step.
    """
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    ddp = torch.nn.parallel.DistributedDataParallel(
        model, device_ids=device_ids, find_unused_parameters=find_unused_parameters
    )
    share = BatchShare()
    ddp.register_comm_hook(share, _weighted_sum_hook)
    return ddp, share
