"""Host-data plumbing for the text and categorical layers (Python strings, numpy arrays, lists).

torch has no string tensors, so the layers that take strings (`StringLookup`, `Hashing`,
`TextVectorization`, ...) work on host data, as Keras's do inside a `tf.data` pipeline, and
return torch tensors ready for the model. `HostDataLayer.__call__` hands such data to `call`
untouched (the generic `Layer.__call__` would try to turn a string array into a tensor).
"""

import numpy as np
import torch

from keraslike.graph.operation import any_symbolic
from keraslike.layers.layer import Layer


def is_string_like(data):
    """Whether `data` is a string, bytes, or a numpy array / nested list holding strings."""
    if isinstance(data, (str, bytes)):
        return True
    if isinstance(data, np.ndarray):
        return data.dtype.kind in "USO"
    if isinstance(data, (list, tuple)):
        while isinstance(data, (list, tuple)) and data:
            data = data[0]
        return isinstance(data, (str, bytes))
    return False


def to_string_array(data, encoding="utf-8"):
    """`data` as a numpy object array of Python `str` (bytes are decoded with `encoding`)."""
    if isinstance(data, torch.Tensor):
        raise ValueError(
            "Expected string data (a string, a list of strings or a numpy array of strings). "
            f"Received: a torch tensor of dtype {data.dtype}"
        )
    array = np.asarray(data, dtype=object)
    if array.size and not isinstance(array.flat[0], str):
        flat = [
            x.decode(encoding) if isinstance(x, bytes) else x if isinstance(x, str) else str(x)
            for x in array.reshape(-1)
        ]
        array = np.array(flat, dtype=object).reshape(array.shape)
    return array


def to_number_tensor(layer, data, arg="inputs"):
    """`data` (tensor, array, list or number) as a torch tensor; strings are a ValueError."""
    if isinstance(data, torch.Tensor):
        return data
    if is_string_like(data):
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) takes numbers, but `{arg}` holds '
            f"strings. Received: {arg}={_short(data)}"
        )
    return torch.as_tensor(np.asarray(data))


def _short(data):
    text = repr(data)
    return text if len(text) < 80 else text[:77] + "..."


def iterate_batches(data, steps=None, lists_are_data=True):
    """Yields the batches of `adapt` data: the whole of an array/list/tensor, or each batch of
    an iterable (a `DataLoader`, a generator, a `PyDataset`...); `(x, y)` batches give `x`.
    With `lists_are_data=False` a list is a list of batches (Keras's Discretization)."""
    whole = (np.ndarray, torch.Tensor, str, bytes) + ((list, tuple) if lists_are_data else ())
    if isinstance(data, whole):
        yield data
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(
            "adapt() supports numpy arrays, torch tensors, lists and iterables of batches. "
            f"Received: data of type {type(data).__name__}"
        )
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple) and len(batch) in (2, 3):
            batch = batch[0]
        yield batch


class HostDataLayer(Layer):
    """A layer whose eager calls may take host data (strings, lists) that stay off torch."""

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    def __call__(self, *args, **kwargs):
        # Host data (a numpy array, strings) holds no symbolic tensor: skip the scan of a long
        # list of strings for KerasTensors.
        host = args and (isinstance(args[0], np.ndarray) or is_string_like(args[0]))
        if args and not isinstance(args[0], torch.Tensor) and (
            host or not any_symbolic(args, kwargs)
        ):
            if not self.built:
                self.built = True
            kwargs.pop("training", None)
            return self.call(*args, **kwargs)
        return super().__call__(*args, **kwargs)
