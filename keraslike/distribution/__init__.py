"""`keras.distribution` on `torch.distributed`: data-parallel training under `torchrun`.

`fit`, `evaluate` and `predict` are data-parallel by themselves whenever a process group with
more than one process is initialized (as `torchrun` plus `keras.distribution.initialize()` or
`torch.distributed.init_process_group()` sets up): the model goes through
`DistributedDataParallel`, `batch_size` is the global batch split across the ranks, metrics are
summed over the ranks when read, and `predict` returns every row in order on every rank.

```python
# torchrun --nproc_per_node=2 train.py
import keraslike as keras
keras.distribution.initialize()
keras.distribution.set_distribution(keras.distribution.DataParallel())
model.fit(x, y, batch_size=64)  # 32 samples per process and step
```
"""

import os

import torch
import torch.distributed as dist

from keraslike.distribution.runtime import is_distributed, rank, world_size

__all__ = [
    "DataParallel",
    "ModelParallel",
    "distribution",
    "initialize",
    "is_distributed",
    "list_devices",
    "rank",
    "set_distribution",
    "world_size",
]

_DISTRIBUTION = None


def list_devices(device_type=None):
    """Returns the devices of this process, as Keras names them (`"cuda:0"`, `"cpu:0"`).

    Args:
        device_type: `"cpu"`, `"gpu"` / `"cuda"`, or `None` (the GPUs when there are any, else
            the CPU).
    """
    kind = (device_type or ("cuda" if torch.cuda.is_available() else "cpu")).lower()
    if kind in ("gpu", "cuda"):
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if kind == "cpu":
        return ["cpu:0"]
    raise ValueError(f"Unknown device type {device_type!r}. Expected 'cpu', 'gpu' or 'cuda'.")


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Initializes the `torch.distributed` process group (a no-op when one is running).

    Under `torchrun` the arguments come from the environment (`MASTER_ADDR`, `MASTER_PORT`,
    `WORLD_SIZE`, `RANK`, `LOCAL_RANK`). On GPUs each process uses `cuda:LOCAL_RANK` and NCCL
    (gloo on GPU 0 when there are more processes than GPUs); on CPUs, gloo.

    Args:
        job_addresses: Optional `"host:port"` of the coordinator (rank 0).
        num_processes: Number of processes (else `WORLD_SIZE`).
        process_id: This process's rank (else `RANK`).
    """
    if dist.is_initialized():
        return
    if job_addresses:
        first = job_addresses.split(",")[0]
        host, _, port = first.rpartition(":")
        os.environ.setdefault("MASTER_ADDR", host)
        os.environ.setdefault("MASTER_PORT", port)
    if num_processes is not None:
        os.environ["WORLD_SIZE"] = str(num_processes)
    if process_id is not None:
        os.environ["RANK"] = str(process_id)
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", 1)))
    if torch.cuda.is_available():
        # One GPU per process: NCCL. More processes than GPUs (they share GPU 0): gloo, which
        # NCCL refuses to do on one device.
        one_each = torch.cuda.device_count() >= local_world
        torch.cuda.set_device(local_rank if one_each else 0)
        dist.init_process_group("nccl" if one_each else "gloo")
    else:
        dist.init_process_group("gloo")


class DataParallel:
    """Data parallelism: every process holds the whole model and a share of each batch.

    In keraslike this is what `fit`/`evaluate`/`predict` do whenever a process group with more
    than one process is running (`DistributedDataParallel` underneath); setting it documents
    the intent and checks the set-up.

    Args:
        device_mesh: Accepted for Keras compatibility (a 1-D mesh of all devices).
        devices: Accepted for Keras compatibility (this process's device is used).
        auto_shard_dataset: Must be `True`: each process reads its share of each global batch.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if not auto_shard_dataset:
            raise NotImplementedError(
                "DataParallel(auto_shard_dataset=False) is not supported: keraslike always gives "
                "each process its share of each global batch."
            )
        self.device_mesh = device_mesh
        self.devices = devices
        self.auto_shard_dataset = auto_shard_dataset


class ModelParallel:
    """Not implemented in keraslike yet (FSDP2 `fully_shard` is the planned engine)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "keras.distribution.ModelParallel is not implemented in keraslike yet; use "
            "DataParallel (automatic under torchrun) or shard the model with "
            "torch.distributed.fsdp.fully_shard yourself."
        )


def set_distribution(value):
    """Sets the global distribution (`DataParallel` or `None`)."""
    global _DISTRIBUTION
    if value is not None and not isinstance(value, DataParallel):
        raise ValueError(f"Expected a `DataParallel` distribution or None. Received: {value!r}")
    _DISTRIBUTION = value


def distribution():
    """The distribution set with `set_distribution`, or `None`."""
    return _DISTRIBUTION
