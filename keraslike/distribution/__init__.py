"""`keras.distribution` on `torch.distributed`: DDP and FSDP2 training under `torchrun`.

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

`ModelParallel` shards the weights with FSDP2 (`fully_shard`) instead; see its docstring.
"""

import os

import torch
import torch.distributed as dist

from keraslike.distribution import shutdown
from keraslike.distribution.mesh import (
    DeviceMesh,
    LayoutMap,
    TensorLayout,
    distribute_tensor,
    get_device_count,
)
from keraslike.distribution.runtime import is_distributed, rank, world_size
from keraslike.distribution.sharding import full_weights, is_sharded

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "LayoutMap",
    "ModelParallel",
    "TensorLayout",
    "distribute_tensor",
    "distribution",
    "full_weights",
    "get_device_count",
    "initialize",
    "is_distributed",
    "is_sharded",
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

    Outside `torchrun` (no `WORLD_SIZE` in the environment and no arguments) it does nothing:
    the same script runs as one process with `python train.py`.

    Args:
        job_addresses: Optional `"host:port"` of the coordinator (rank 0).
        num_processes: Number of processes (else `WORLD_SIZE`).
        process_id: This process's rank (else `RANK`).
    """
    if dist.is_initialized():
        return
    if num_processes is None and "WORLD_SIZE" not in os.environ:
        return  # one process: nothing to set up
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
    # A script that ends without `destroy_process_group()` (the usual torchrun script) could
    # abort at exit (see `shutdown`): the group this call made is closed before that.
    shutdown.note_own_group()


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
    """Sharded weights for models that do not fit one device: FSDP2 under `fit`/`evaluate`/
    `predict`.

    keraslike maps Keras's `ModelParallel` onto `torch.distributed.fsdp.fully_shard`: every
    weight is sharded along its first dimension over the mesh (a 1-D mesh: over all processes;
    a 2-D mesh: HSDP, replicas along `batch_dim_name`, shards along the other axis), and each
    process trains on its share of every global batch, so results equal one process. The
    `LayoutMap`'s per-variable axes are validated and kept (`layout_map`) but FSDP2 decides
    the sharded dimension. Under FSDP2, call `model.save(...)` / `save_weights(...)` on every
    process: the full tensors are gathered (a collective) and rank 0 writes the file.

    Args:
        layout_map: A `LayoutMap` whose `device_mesh` spans all processes.
        batch_dim_name: The mesh axis of the data replicas (default: the first axis).
        auto_shard_dataset: Must be `True`: each process reads its share of each global batch.

    Example:

    ```python
    keras.distribution.initialize()  # under torchrun
    mesh = keras.distribution.DeviceMesh((2,), ["batch"])
    keras.distribution.set_distribution(
        keras.distribution.ModelParallel(layout_map=keras.distribution.LayoutMap(mesh)))
    model.fit(x, y, batch_size=64)   # weights sharded over the 2 processes
    model.save("model.safetensors")  # on every process; rank 0 writes the full model
    ```
    """

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True, **kwargs):
        kwargs.pop("device_mesh", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                f"Argument `layout_map` must be a `LayoutMap` instance. Received: layout_map={layout_map}"
            )
        if not auto_shard_dataset:
            raise NotImplementedError(
                "ModelParallel(auto_shard_dataset=False) is not supported: keraslike always gives "
                "each process its share of each global batch."
            )
        self._layout_map = layout_map
        self.device_mesh = layout_map.device_mesh
        self.batch_dim_name = batch_dim_name or self.device_mesh.axis_names[0]
        if self.batch_dim_name not in self.device_mesh.axis_names:
            raise ValueError(
                f"batch_dim_name={self.batch_dim_name!r} is not an axis of {self.device_mesh}."
            )
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def layout_map(self):
        return self._layout_map

    def torch_mesh(self):
        """The `torch.distributed` DeviceMesh FSDP2 shards over (replicate axis first)."""
        mesh = self.device_mesh.backend_mesh
        names = self.device_mesh.axis_names
        if len(names) == 1 or (len(names) == 2 and names[0] == self.batch_dim_name):
            return mesh
        raise ValueError(
            "keraslike's ModelParallel supports a 1-D mesh, or a 2-D mesh whose first axis is "
            f"`batch_dim_name` ({self.batch_dim_name!r}). Received: {self.device_mesh}"
        )


def set_distribution(value):
    """Sets the global distribution (`DataParallel`, `ModelParallel` or `None`)."""
    global _DISTRIBUTION
    if value is not None and not isinstance(value, (DataParallel, ModelParallel)):
        raise ValueError(
            f"Expected a `DataParallel` or `ModelParallel` distribution, or None. Received: {value!r}"
        )
    _DISTRIBUTION = value


def distribution():
    """The distribution set with `set_distribution`, or `None`."""
    return _DISTRIBUTION
