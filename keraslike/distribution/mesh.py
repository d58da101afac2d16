"""Keras's mesh vocabulary (`DeviceMesh`, `TensorLayout`, `LayoutMap`) over `torch.distributed`.

A `DeviceMesh` names the processes of the `torch.distributed` group along logical axes (one
device per process: `"cuda:LOCAL_RANK"` on GPUs, `"cpu:RANK"` on CPUs); `backend_mesh` is the
matching `torch.distributed.device_mesh.DeviceMesh`. `LayoutMap` keeps Keras's regex lookup of
variable paths. keraslike's `ModelParallel` shards every weight with FSDP2 over the mesh (see
`keraslike.distribution.sharding`), so a `LayoutMap`'s per-variable axes are checked and kept
but do not choose the sharded dimension.
"""

import collections.abc
import math
import re

import torch
import torch.distributed as dist

from keraslike.distribution.runtime import is_distributed, world_size


def _device_kind(device_type=None):
    kind = (device_type or ("cuda" if torch.cuda.is_available() else "cpu")).lower()
    if kind == "gpu":
        kind = "cuda"
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"Unknown device type {device_type!r}. Expected 'cpu', 'gpu' or 'cuda'.")
    return kind


def get_device_count(device_type=None):
    """Returns the number of devices of `device_type` of this process (`"cpu"`: 1).

    Args:
        device_type: `"cpu"`, `"gpu"` / `"cuda"`, or `None` (the GPUs when there are any, else
            the CPU).
    """
    return torch.cuda.device_count() if _device_kind(device_type) == "cuda" else 1


def _global_devices():
    """One device per process of the group (this process alone outside one)."""
    kind = _device_kind()
    if not is_distributed():
        return [f"{kind}:0"]
    return [f"{kind}:{r}" for r in range(world_size())]


class DeviceMesh:
    """The processes of a `torch.distributed` group arranged along named axes.

    Args:
        shape: Tuple of ints, e.g. `(8,)`, or `(2, 4)` for 2 replicas of a model sharded 4 ways.
        axis_names: One name per axis of `shape`, e.g. `("batch", "model")`.
        devices: Optional list of devices, one per process (defaults to one per process of the
            group: `"cpu:0"`, `"cpu:1"`, ... or `"cuda:<rank>"`).

    Example:

    ```python
    mesh = keras.distribution.DeviceMesh((2,), ["batch"])
    ```
    """

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(
                f"Shape and axis_names cannot be empty. Received: shape={shape}, axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                f"Shape and axis_names should have same size. Received: shape={shape}, axis_names={axis_names}"
            )
        devices = list(devices) if devices is not None else _global_devices()
        if math.prod(shape) != len(devices):
            raise ValueError(
                f"Shape does not match the number of devices. Received: shape={shape}; "
                f"devices.shape=({len(devices)},)"
            )
        self._shape = tuple(shape)
        self._axis_names = tuple(axis_names)
        self._devices = devices
        self._backend_mesh = None

    @property
    def shape(self):
        return self._shape

    @property
    def axis_names(self):
        return self._axis_names

    @property
    def devices(self):
        return self._devices

    @property
    def backend_mesh(self):
        """The `torch.distributed.device_mesh.DeviceMesh` of this mesh (needs the process group,
        with one process per device)."""
        if self._backend_mesh is None:
            if not dist.is_initialized() or dist.get_world_size() != math.prod(self._shape):
                raise ValueError(
                    f"{self} needs a torch.distributed process group of {math.prod(self._shape)} "
                    f"processes (one per device). Received: "
                    f"{dist.get_world_size() if dist.is_initialized() else 'no process group'}. "
                    "Run under torchrun and call keras.distribution.initialize() first."
                )
            from torch.distributed.device_mesh import init_device_mesh  # heavy: on first use

            self._backend_mesh = init_device_mesh(
                _device_kind(), self._shape, mesh_dim_names=self._axis_names
            )
        return self._backend_mesh

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """The axes of a `DeviceMesh` along which each dimension of a tensor is laid out.

    Args:
        axes: One mesh axis name (or `None`, not sharded) per tensor dimension.
        device_mesh: Optional `DeviceMesh` (a `LayoutMap` fills it in).
    """

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError(f"Cannot override device mesh value. Existing value is {self._device_mesh}")
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self):
        if self._device_mesh is not None:
            valid = set(self._device_mesh.axis_names)
            unknown = set(self._axes) - {None} - valid
            if unknown:
                raise ValueError(f"Invalid axis names for Layout. Valid axis names: {valid}, Got {unknown}")

    def __repr__(self):
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"


class LayoutMap(collections.abc.MutableMapping):
    """Maps variable paths (regexes, full match) to `TensorLayout`s, as Keras's `LayoutMap`.

    Args:
        device_mesh: The `DeviceMesh` the layouts refer to.

    Example:

    ```python
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    ```
    """

    def __init__(self, device_mesh):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key):
        """The layout of path `key`: an exact key, else the one regex that fully matches it
        (`ValueError` when several match), else `None`."""
        if key in self._layout_map:
            return self._layout_map[key]
        matching = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple layout specification keys: {matching}. Please "
                "make sure each tensor/variable path only matches at most one layout "
                "specification key in the LayoutMap."
            )
        return self._layout_map[matching[0]] if matching else None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(
                f"{key} already exist in the LayoutMap with value {self._layout_map[key]}. Please "
                "make sure to not use duplicated keys."
            )
        if isinstance(layout, tuple):
            layout = TensorLayout(axes=layout)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


def distribute_tensor(tensor, layout):
    """Returns `tensor` as a `torch.distributed.tensor.DTensor` laid out as `layout` (each
    named axis shards that dimension over the mesh axis; `None` replicates). Symbolic tensors
    are returned unchanged, as in Keras.

    Args:
        tensor: A torch tensor (the same full value on every process).
        layout: A `TensorLayout` with a `device_mesh`.
    """
    from torch.distributed.tensor import Replicate, Shard  # heavy: on first use
    from torch.distributed.tensor import distribute_tensor as _distribute_tensor

    if not isinstance(tensor, torch.Tensor):
        return tensor
    mesh = layout.device_mesh
    if mesh is None:
        raise ValueError(f"{layout} has no device_mesh; set one to distribute a tensor.")
    placements = []
    for axis in mesh.axis_names:
        dims = [i for i, name in enumerate(layout.axes) if name == axis]
        placements.append(Shard(dims[0]) if dims else Replicate())
    return _distribute_tensor(tensor, mesh.backend_mesh, placements)
