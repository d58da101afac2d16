"""Moving one weight between a torch tensor and an HDF5 dataset without a whole-size copy.

A weight's Keras layout is usually a permuted view of its torch storage (a Dense kernel is the
transpose of `nn.Linear.weight`). Writing such a view, or reading into one, goes through one
reused buffer of at most `CHUNK_BYTES`, row block by row block: no second full-size array is
allocated (on a 350 MB kernel, that allocation and its page faults cost more than the copy).
Contiguous weights are written in one call and read straight into their storage.
"""

import numpy as np
import torch

from keraslike.layers.weight_layout import Layout, Permuted

CHUNK_BYTES = 16 * 1024 * 1024


def _row_block(shape, itemsize):
    row = itemsize
    for size in shape[1:]:
        row *= size
    return max(1, CHUNK_BYTES // max(row, 1))


def write_tensor(group, key, value):
    """Writes the Keras-layout tensor `value` as the dataset `group[key]`; returns the dataset.

    bfloat16 values are stored as float32 with the attribute `dtype="bfloat16"` (as Keras does).
    """
    value = value.detach()
    dtype_attr = None
    if value.dtype == torch.bfloat16:
        value, dtype_attr = value.float(), "bfloat16"
    if value.device.type != "cpu":
        value = value.cpu()
    if value.ndim == 0 or value.is_contiguous() or value.numel() * value.element_size() <= CHUNK_BYTES:
        dataset = group.create_dataset(key, data=np.require(value.numpy(), requirements="C"))
    else:
        dataset = group.create_dataset(key, shape=tuple(value.shape), dtype=_numpy_dtype(value.dtype))
        rows = _row_block(value.shape, value.element_size())
        buffer = torch.empty((min(rows, value.shape[0]),) + tuple(value.shape[1:]), dtype=value.dtype)
        for start in range(0, value.shape[0], rows):
            stop = min(value.shape[0], start + rows)
            chunk = buffer[: stop - start]
            chunk.copy_(value[start:stop])
            dataset.write_direct(chunk.numpy(), dest_sel=np.s_[start:stop])
    if dtype_attr:
        dataset.attrs["dtype"] = dtype_attr
    return dataset


def read_into(tensor, layout, dataset, read_whole):
    """Copies the Keras-layout `dataset` into the torch weight `tensor` (in place, no grad).

    Args:
        tensor: The weight, in its torch layout.
        layout: Its declared `Layout`.
        dataset: An open h5py dataset whose shape is the weight's Keras shape (checked before).
        read_whole: `dataset -> tensor`, the plain read, for layouts that are not views.
    """
    target = tensor.detach()
    if type(layout) not in (Layout, Permuted) or target.ndim == 0 or target.numel() == 0:
        target.copy_(layout.to_torch(read_whole(dataset).to(target.dtype)))
        return
    view = layout.to_keras(target)  # the weight's storage seen in Keras's layout
    file_dtype = dataset.dtype
    same_dtype = dataset.attrs.get("dtype") != "bfloat16" and _numpy_dtype(target.dtype) == file_dtype
    if view.device.type == "cpu" and view.is_contiguous() and same_dtype:
        dataset.read_direct(view.numpy())  # straight into the weight's memory
        return
    rows = _row_block(dataset.shape, file_dtype.itemsize)
    buffer = np.empty((min(rows, dataset.shape[0]),) + tuple(dataset.shape[1:]), dtype=file_dtype)
    for start in range(0, dataset.shape[0], rows):
        stop = min(dataset.shape[0], start + rows)
        chunk = buffer[: stop - start]
        dataset.read_direct(chunk, source_sel=np.s_[start:stop])
        view[start:stop].copy_(torch.from_numpy(chunk))


def _numpy_dtype(dtype):
    try:
        return np.dtype(str(dtype).replace("torch.", ""))
    except TypeError:
        return None
