"""Data parallelism inside `fit` / `evaluate` / `predict` (see `keraslike.distribution`).

When a process group with more than one process runs, each run:
- gives every rank its share of each global batch (`batch_size` is the global batch), with the
  same per-epoch permutation on all ranks (a seed broadcast from rank 0);
- trains through `DistributedDataParallel`, each rank's gradient weighted by its share of the
  global batch, so a short last batch split unevenly still gives the global mean's gradient;
- sums the metric and loss-tracker state over the ranks when logs are read (epoch end,
  evaluate), and restores each rank's own state afterwards;
- agrees on `stop_training` at each epoch end (one rank's EarlyStopping stops all; the
  collective also keeps the other ranks behind rank 0's saves);
- gathers `predict`'s rows from all ranks, in order.
Outside a process group (or with one process) nothing here runs.
"""

import contextlib

import torch

from keraslike.distribution import runtime
from keraslike.trainers.compile_utils import RunningMean
from keraslike.trainers.data_adapters import ArrayData, IterableData


def active():
    """Whether runs are data-parallel now."""
    return runtime.is_distributed()


def device():
    """This process's training device under data parallelism."""
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def shard(*datasets):
    """Gives each dataset this rank's share of every global batch."""
    seed = runtime.broadcast_seed()
    for data in datasets:
        if isinstance(data, ArrayData):
            data.set_shard(runtime.rank(), runtime.world_size(), seed)
        elif isinstance(data, IterableData):
            data.set_shard(runtime.rank(), runtime.world_size())


def wrap_for_training(model, overrides_train_step):
    """Puts a `DistributedDataParallel` wrapper in the model's step state."""
    if overrides_train_step:
        raise NotImplementedError(
            f'Model "{model.name}" overrides `train_step`, and keraslike does not yet synchronize '
            "gradients of a custom `train_step` across processes (a `torch.distributed` process "
            "group with more than one process is running). Override `compute_loss` instead, "
            "or run one process."
        )
    compile_loss = getattr(model, "_compile_loss", None)
    unused = compile_loss is not None and len(compile_loss.with_loss) < len(compile_loss.specs)
    state = model._step_state
    state.ddp, state.share = runtime.data_parallel(model, device(), find_unused_parameters=unused)


def set_share(model, data):
    """Tells the gradient reduction this rank's share of the batch about to run."""
    share = getattr(model._step_state, "share", None)
    if share is not None:
        local, global_n = data.share
        share.value = local / global_n if global_n else 0.0


def _state_tensors(metric):
    if isinstance(metric, RunningMean):
        return [] if metric.total is None else [metric.total]
    if hasattr(metric, "metrics") and not isinstance(metric, torch.nn.Module):
        return [v for m in metric.metrics for v in m.variables]
    return list(metric.variables)


@contextlib.contextmanager
def synced_metrics(model):
    """Within the block, every metric's state is the sum over the ranks; restored afterwards."""
    if not active():
        yield
        return
    metrics = model.metrics
    tensors = [t for m in metrics for t in _state_tensors(m)]
    trackers = [m for m in metrics if isinstance(m, RunningMean)]
    saved = [t.clone() for t in tensors]
    counts = [m.count for m in trackers]
    runtime.all_reduce_sum_(tensors)
    if trackers:
        summed = torch.tensor([float(c) for c in counts], dtype=torch.float64)
        runtime.all_reduce_sum_([summed])
        for tracker, total in zip(trackers, summed.tolist()):
            tracker.count = total
    try:
        yield
    finally:
        with torch.no_grad():
            for tensor, original in zip(tensors, saved):
                tensor.copy_(original)
        for tracker, count in zip(trackers, counts):
            tracker.count = count


def agree_stop(model):
    """`stop_training` on every rank when any rank asked for it."""
    if active():
        model.stop_training = runtime.agree_any(model.stop_training)


def gather_predictions(data, outputs):
    """The rows of all ranks, in the data's order, from this rank's per-output row lists."""
    world = runtime.world_size()
    gathered = []
    for rows in outputs:
        local = torch.cat(rows)
        per_rank = runtime.all_gather_rows(local)
        offsets = [0] * world
        pieces = []
        for _, global_n in data.batch_sizes():
            for r in range(world):
                part = _local_count(global_n, world, r)
                pieces.append(per_rank[r][offsets[r] : offsets[r] + part])
                offsets[r] += part
        gathered.append(torch.cat(pieces))
    return gathered


def _local_count(global_n, world, rank):
    base, extra = divmod(global_n, world)
    return base + (1 if rank < extra else 0)
