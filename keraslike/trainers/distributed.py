"""Data parallelism inside `fit` / `evaluate` / `predict` (see `keraslike.distribution`).

When a process group with more than one process runs, each run:
- gives every rank its share of each global batch (`batch_size` is the global batch), with the
  same per-epoch permutation on all ranks (drawn on rank 0 as one process draws it, then
  broadcast: a run seeded like one process shuffles like it);
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
import os
import warnings

import torch

from keraslike import distribution as distribution_api
from keraslike.distribution import runtime, sharding, shutdown
from keraslike.trainers.compile_utils import RunningMean
from keraslike.trainers.data_adapters import ArrayData, IterableData


_WARNED_NO_GROUP = []


def active():
    """Whether runs are data-parallel now (warns once when torchrun started this process but
    no process group was initialized: each process would train alone)."""
    if runtime.is_distributed():
        return True
    if not _WARNED_NO_GROUP and int(os.environ.get("WORLD_SIZE") or 1) > 1 and not runtime.is_initialized():
        _WARNED_NO_GROUP.append(True)
        warnings.warn(
            f"WORLD_SIZE={os.environ['WORLD_SIZE']} (torchrun), but no torch.distributed process "
            "group is initialized: each process trains its own copy of the model on all the "
            "data. Call `keras.distribution.initialize()` before `fit` for data parallelism.",
            stacklevel=3,
        )
    return False


def device():
    """This process's training device under data parallelism."""
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def shard(*datasets):
    """Gives each dataset this rank's share of every global batch."""
    for data in datasets:
        if isinstance(data, ArrayData):
            data.set_shard(runtime.rank(), runtime.world_size(), runtime.broadcast_permutation)
        elif isinstance(data, IterableData):
            data.set_shard(runtime.rank(), runtime.world_size(), runtime.broadcast_order)


def model_parallel():
    """The `ModelParallel` distribution in force under data parallelism, or `None`."""
    chosen = distribution_api.distribution()
    return chosen if active() and isinstance(chosen, distribution_api.ModelParallel) else None


def prepare_model(model):
    """Under `ModelParallel`, shards the model with FSDP2 (once; it stays sharded)."""
    chosen = model_parallel()
    if chosen is None or sharding.is_sharded(model):
        return
    optimizer = getattr(model, "optimizer", None)
    if getattr(optimizer, "built", False):
        raise ValueError(
            f'The optimizer of model "{model.name}" was built before the model was sharded by '
            "ModelParallel (FSDP2 replaces the weights by sharded ones). Call "
            "`keras.distribution.set_distribution(ModelParallel(...))` before the model's first "
            "`fit`, or compile it again after sharding."
        )
    sharding.shard_model(model, chosen.torch_mesh())


def wrap_for_training(model, overrides_train_step):
    """Puts a `DistributedDataParallel` wrapper in the model's step state.

    A user's `train_step` calls the model itself; `wrap_train_step` routes those calls through
    the wrapper. With `gradient_accumulation_steps` (and the built-in step), the micro-steps
    before each update run in DDP's `no_sync`: one gradient reduction per update.
    """
    state = model._step_state
    if sharding.is_sharded(model):
        # FSDP2 reduces gradients itself (a mean over the ranks); the built-in step weighs each
        # rank's loss by `world * share` so that mean is the global batch's gradient.
        state.share = runtime.BatchShare()
        if not overrides_train_step:
            state.micro_step = _sharded_backward_and_apply
        else:
            state.share.even_only = model.name  # see set_share
        return
    compile_loss = getattr(model, "_compile_loss", None)
    unused = compile_loss is not None and len(compile_loss.with_loss) < len(compile_loss.specs)
    state.ddp, state.share = runtime.data_parallel(model, device(), find_unused_parameters=unused)
    shutdown.note_wrapper_holder(state)
    optimizer = model.optimizer
    if (
        not overrides_train_step
        and getattr(optimizer, "gradient_accumulation_steps", None)
        # float16 loss scaling checks each step's gradients: it keeps one reduction per step.
        and state.autocast_dtype is not torch.float16
    ):
        state.micro_step = _accumulating_backward_and_apply
        state.share.value = 1.0  # the reduction sums; each micro-step's loss carries its share


def set_share(model, data):
    """Tells the gradient reduction this rank's share of the batch about to run."""
    state = model._step_state
    share = getattr(state, "share", None)
    if share is not None:
        local, global_n = data.share
        fraction = local / global_n if global_n else 0.0
        if share.even_only and local * runtime.world_size() != global_n:
            # FSDP2 averages a user's train_step gradients over the ranks: right only when every
            # rank holds the same number of samples.
            raise ValueError(
                f'Model "{share.even_only}" overrides `train_step` and is sharded by ModelParallel '
                f"(FSDP2), whose gradient mean is exact only for equal shares, but a global batch "
                f"of {global_n} samples splits unevenly over {runtime.world_size()} processes "
                f"({local} here). Use a sample count divisible by batch_size and a batch_size "
                "divisible by the number of processes, or the built-in train_step."
            )
        if state.micro_step is not None:
            share.loss_weight = fraction
        else:
            share.value = fraction


def wrap_train_step(model, step):
    """`step` composed with the data-parallel wrapper (unchanged outside data parallelism).

    - A user's `train_step` override: its calls of the model (`self(x, training=True)`) go
      through `DistributedDataParallel`, whose reduction synchronizes the gradients (the model's
      `forward` is routed to the wrapper for the duration of the step).
    - Gradient accumulation in the built-in step: the micro-steps before an update run in
      `no_sync`, so gradients are reduced once per update.
    """
    state = getattr(model, "_step_state", None)
    ddp = getattr(state, "ddp", None)
    if ddp is None:
        return step
    if not getattr(type(model).train_step, "_builtin_step", False):
        return _through_wrapper(model, ddp, step)
    if state.micro_step is None:
        return step
    optimizer = model.optimizer
    steps = optimizer.gradient_accumulation_steps

    def accumulating_step(data):
        if (optimizer._host_iterations + 1) % steps == 0:
            return step(data)  # the update step: its backward reduces the summed gradients
        with ddp.no_sync():
            return step(data)

    return accumulating_step


def _through_wrapper(model, ddp, step):
    class_forward = type(model).forward
    calls = [0]
    inside = [False]

    def forward_through_ddp(*args, **kwargs):
        if inside[0]:  # DDP calling the model back: the model's own forward
            return class_forward(model, *args, **kwargs)
        inside[0] = True
        calls[0] += 1
        try:
            return ddp(*args, **kwargs)
        finally:
            inside[0] = False

    def step_through_wrapper(data):
        calls[0] = 0
        model.forward = forward_through_ddp
        try:
            logs = step(data)
        finally:
            del model.forward
        if calls[0] == 0:
            # The gradients of this step were not synchronized: the ranks' weights now differ.
            raise RuntimeError(
                f'The `train_step` of model "{model.name}" did not call the model itself (as '
                "`self(x, training=True)`), so its gradients were not synchronized across the "
                f"{runtime.world_size()} processes of the `torch.distributed` group. Call the "
                "model in `train_step`, or run one process."
            )
        return logs

    return step_through_wrapper


def _sharded_backward_and_apply(model, loss, weights):
    """`backward_and_apply` under FSDP2: the loss weighted by `world * share` (FSDP2's
    reduce-scatter averages over the ranks), then the optimizer on the sharded weights."""
    state = model._step_state
    for v in weights:
        v.grad = None
    (loss * (state.share.loss_weight * runtime.world_size())).backward()
    with torch.no_grad():
        model.optimizer.apply([v.grad for v in weights], weights)
    state.apply_constraints()


def _accumulating_backward_and_apply(model, loss, weights):
    """`backward_and_apply` for gradient accumulation under DDP: each micro-step adds its
    share-weighted gradient to `.grad` (reduced across the ranks only on the update step, the
    others run in `no_sync`); between updates the optimizer only counts the step."""
    state = model._step_state
    optimizer = model.optimizer
    steps = optimizer.gradient_accumulation_steps
    position = optimizer._host_iterations % steps
    if position == 0:
        for v in weights:
            v.grad = None
    (loss * state.share.loss_weight).backward()
    with torch.no_grad():
        if position == steps - 1:
            optimizer.apply([v.grad for v in weights], weights)
        else:
            optimizer._count_accumulation_step()
    state.apply_constraints()


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
