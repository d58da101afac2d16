"""Core ops (Keras 3's `keras.ops` core family) and the dtype and conversion helpers all ops use.

Conversion follows Keras 3 on its torch backend: Python ints become `int32` (`int64` when out of
range), Python floats `floatx()` (`float32`), bools `bool`; NumPy arrays keep their dtype (except
`uint32`, which becomes `int64`); lists are converted by the same rules from their elements.
Values that meet a tensor are placed on that tensor's device; torch tensors pass through untouched.
"""

import builtins

import numpy as np
import torch

from keraslike.backend import config
from keraslike.backend.dtypes import TORCH_DTYPES, standardize_dtype
from keraslike.backend.errors import ArgumentTypeError
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.ops.dispatch import keras_op

_TORCH_DTYPES = TORCH_DTYPES
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def to_torch_dtype(dtype):
    """Returns the `torch.dtype` for any dtype spec (`None` gives `floatx()`)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    return _TORCH_DTYPES[standardize_dtype(dtype)]


def _python_dtype(leaves):
    """The torch dtype Keras gives a (nested) list of Python numbers."""
    if not leaves:
        return to_torch_dtype(config.floatx())
    if builtins.all(isinstance(v, bool) for v in leaves):
        return torch.bool
    if builtins.any(isinstance(v, float) for v in leaves):
        return to_torch_dtype(config.floatx())
    if builtins.any(isinstance(v, complex) for v in leaves):
        return torch.complex64
    if builtins.all(_INT32_MIN <= v <= _INT32_MAX for v in leaves):
        return torch.int32
    return torch.int64


def _flat_list(x):
    if isinstance(x, (list, tuple)):
        out = []
        for item in x:
            out.extend(_flat_list(item))
        return out
    return [x]


def to_tensor(x, dtype=None, device=None):
    """Converts `x` to a torch tensor by Keras's rules (the helper every op uses).

    Tensors pass through (cast when `dtype` differs); other values are created on `device`.
    """
    if isinstance(x, torch.Tensor):
        if dtype is not None:
            dtype = to_torch_dtype(dtype)
            if x.dtype != dtype:
                x = x.to(dtype)
        return x
    if isinstance(x, KerasTensor):
        raise ValueError(
            "A symbolic KerasTensor cannot be converted to a tensor: it has no value. "
            f"Received: {x!r}"
        )
    if dtype is not None:
        dtype = to_torch_dtype(dtype)
    if isinstance(x, (bool, int, float, complex)):
        if dtype is None:
            dtype = _python_dtype([x])
        # A fill kernel, not a host-to-device copy: no sync on CUDA.
        return torch.full((), x, dtype=dtype, device=device)
    if isinstance(x, (list, tuple)):
        leaves = _flat_list(x)
        if builtins.any(isinstance(v, torch.Tensor) for v in leaves):
            if device is None:
                device = next(v.device for v in leaves if isinstance(v, torch.Tensor))
            return torch.stack([to_tensor(v, dtype=dtype, device=device) for v in x])
        if builtins.all(isinstance(v, (bool, int, float, complex)) for v in leaves):
            return torch.tensor(x, dtype=dtype or _python_dtype(leaves), device=device)
    if isinstance(x, (torch.SymInt, torch.SymFloat)):
        return torch.as_tensor(x, dtype=dtype, device=device)
    array = np.asarray(x)
    if array.dtype.name == "bfloat16":  # ml_dtypes's, as Keras's `convert_to_numpy` gives
        return array_to_tensor(array).to(device=device, dtype=dtype or torch.bfloat16)
    if array.dtype == np.uint32:
        array = array.astype(np.int64)
    elif array.dtype == np.uint16:
        array = array.astype(np.int32)
    elif array.dtype.kind in "OUS":
        # Keras's ValueError ("Invalid dtype: str96"); a TypeError for keraslike's callers.
        raise ArgumentTypeError(
            f"Cannot convert {x!r:.80} to a tensor: strings and Python objects have no tensor "
            f"dtype (numpy dtype {array.dtype})."
        )
    if dtype is None and array.dtype.kind == "f" and array.dtype.itemsize < 2:
        dtype = to_torch_dtype(config.floatx())
    return torch.as_tensor(array, dtype=dtype, device=device)


def like(x, ref):
    """Converts `x` to a tensor on `ref`'s device (no-op for tensors)."""
    if isinstance(x, torch.Tensor):
        return x
    return to_tensor(x, device=ref.device if isinstance(ref, torch.Tensor) else None)


def first_device(*values):
    """The device of the first tensor among `values` (nested lists searched), else `None`."""
    for v in values:
        if isinstance(v, torch.Tensor):
            return v.device
        if isinstance(v, (list, tuple)):
            device = first_device(*v)
            if device is not None:
                return device
    return None


def is_float(x):
    """Whether tensor `x` has a floating dtype."""
    return x.dtype.is_floating_point


# ----------------------------------------------------------------------------------------------
# Conversion, dtype and shape ops.


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Converts a NumPy array, Python value or tensor to a torch tensor.

    Args:
        x: The value to convert.
        dtype: Target dtype; by default Keras's rules (Python ints become `int32`).
        sparse: Must be falsy (torch tensors here are dense).
        ragged: Must be falsy.

    A symbolic tensor is returned as is (cast when `dtype` differs).
    """
    if sparse:
        raise ValueError("`sparse=True` is not supported: keraslike tensors are dense.")
    if ragged:
        raise ValueError("`ragged=True` is not supported: keraslike tensors are dense.")
    if isinstance(x, KerasTensor):
        if dtype is not None and standardize_dtype(dtype) != x.dtype:
            return cast(x, dtype)
        return x
    return to_tensor(x, dtype=dtype)


def tensor_to_numpy(tensor):
    """Converts one torch tensor to a NumPy array as Keras does on torch.

    The tensor is detached and moved to the CPU; a `bfloat16` tensor becomes an `ml_dtypes.bfloat16`
    array (NumPy has no bfloat16 of its own). The result may share memory with a CPU tensor.

    Args:
        tensor: A `torch.Tensor`.

    Returns:
        A NumPy array.
    """
    tensor = tensor.detach()
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    if tensor.dtype == torch.bfloat16:
        # Imported here: ml_dtypes takes about a second to import and only bfloat16 results need it.
        import ml_dtypes

        return tensor.float().numpy().astype(ml_dtypes.bfloat16)
    return tensor.numpy()


def array_to_tensor(value):
    """A CPU tensor of `value` (an array-like), sharing memory where NumPy allows.

    `ml_dtypes.bfloat16` arrays (what Keras and `tensor_to_numpy` give for bfloat16) become
    `torch.bfloat16` tensors; torch cannot read that NumPy dtype itself.

    Args:
        value: A NumPy array, a tensor, or anything `np.asarray` accepts.

    Returns:
        A `torch.Tensor`.
    """
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16)
    return torch.as_tensor(array)


def convert_to_numpy(x):
    """Converts a tensor (or a list of them) to a NumPy array (`bfloat16` gives `ml_dtypes.bfloat16`)."""
    if isinstance(x, KerasTensor):
        raise ValueError(
            "A symbolic tensor has no value and cannot be converted to NumPy. "
            f"Received: {x!r}"
        )
    if isinstance(x, torch.Tensor):
        return tensor_to_numpy(x)
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(e) for e in x])
    return np.asarray(x)


def is_tensor(x):
    """Returns whether `x` is a torch tensor."""
    return isinstance(x, torch.Tensor)


@keras_op
def cast(x, dtype):
    """Casts `x` to `dtype` (a no-op when it already has it)."""
    return to_tensor(x, dtype=dtype)


def dtype(x):
    """Returns the Keras dtype string of `x` (`"float32"`, ...), tensor or symbolic tensor."""
    if isinstance(x, KerasTensor):
        return x.dtype
    return standardize_dtype(to_tensor(x).dtype)


def shape(x):
    """Returns the shape of `x` as a tuple: ints for tensors, `None` for unknown symbolic dims."""
    if isinstance(x, (torch.Tensor, KerasTensor)):
        return tuple(x.shape)
    return tuple(to_tensor(x).shape)


@keras_op
def stop_gradient(variable):
    """Returns `variable` cut from the autograd graph (`detach`)."""
    return to_tensor(variable).detach()


# ----------------------------------------------------------------------------------------------
# Control flow.


def _on_meta(structure):
    return builtins.any(
        isinstance(t, torch.Tensor) and t.device.type == "meta" for t in nest.flatten(structure)
    )


@keras_op
def cond(pred, true_fn, false_fn):
    """Returns `true_fn()` if `pred` else `false_fn()`.

    Eagerly a tensor `pred` is read on the host; under `torch.compile` it becomes `torch.cond`
    (both branches traced, no graph break).
    """
    if isinstance(pred, torch.Tensor):
        if pred.device.type == "meta":
            return true_fn()
        if torch.compiler.is_compiling():
            return torch.cond(pred, true_fn, false_fn, ())
    return true_fn() if pred else false_fn()


@keras_op
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (and the count allows).

    Args:
        cond: Callable of the loop variables returning a boolean (tensor).
        body: Callable of the loop variables returning new ones of the same structure.
        loop_vars: A tensor or a tuple/list of tensors.
        maximum_iterations: Optional bound on the number of iterations.
    """
    is_tuple = isinstance(loop_vars, (tuple, list))
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
    loop_vars = tuple(nest.map_structure(to_tensor, list(loop_vars)))
    if _on_meta(loop_vars):  # shape inference: the body keeps shapes, run it once
        out = body(*loop_vars)
        out = tuple(out) if isinstance(out, (list, tuple)) else (out,)
        return out if is_tuple else out[0]
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and cond(*loop_vars):
        loop_vars = body(*loop_vars)
        if not isinstance(loop_vars, (list, tuple)):
            loop_vars = (loop_vars,)
        loop_vars = tuple(loop_vars)
        count += 1
    return loop_vars if is_tuple else loop_vars[0]


@keras_op
def fori_loop(lower, upper, body_fun, init_val):
    """Returns `init_val` updated by `val = body_fun(i, val)` for `i` in `range(lower, upper)`."""
    if _on_meta(init_val):
        return body_fun(lower, init_val)
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


@keras_op
def switch(index, branches, *operands):
    """Applies `branches[index]` to `operands` (`index` clamped to the valid range)."""
    if isinstance(index, torch.Tensor):
        if index.device.type == "meta":
            return branches[0](*operands)
        index = int(index)
    index = builtins.max(0, builtins.min(int(index), len(branches) - 1))
    return branches[index](*operands)


@keras_op
def vectorized_map(function, elements):
    """Maps `function` over the leading axis of `elements` (a tensor or a structure), vectorized."""
    return torch.vmap(function)(elements)


@keras_op(name="map")
def map(f, xs):
    """Applies `f` to each slice of `xs` along its first axis and stacks the results."""
    flat = [to_tensor(x) for x in nest.flatten(xs)]
    outputs = [f(nest.pack_like(xs, list(items))) for items in zip(*(x.unbind(0) for x in flat))]
    if not outputs:
        raise ValueError("`map` needs a non-empty leading axis.")
    first = nest.flatten(outputs[0])
    stacked = [torch.stack([nest.flatten(o)[i] for o in outputs]) for i in range(len(first))]
    return nest.pack_like(outputs[0], stacked)


@keras_op
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loops `carry, y = f(carry, x)` over the leading axis of `xs`; returns `(carry, ys)`."""
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    xs_flat = [] if xs is None else [to_tensor(x) for x in nest.flatten(xs)]
    n = int(length) if length is not None else xs_flat[0].shape[0]
    carry = init
    ys = []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = nest.pack_like(xs, [t[i] for t in xs_flat]) if xs is not None else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    leaves = [nest.flatten(y) for y in ys]
    stacked = [torch.stack([leaf[i] for leaf in leaves]) for i in range(len(leaves[0]))]
    return carry, nest.pack_like(ys[0], stacked)


# ----------------------------------------------------------------------------------------------
# Scatter and slicing.


def _index_tuple(indices):
    """`(..., k)` integer indices -> a k-tuple of flat index vectors."""
    indices = indices.reshape(-1, indices.shape[-1]).long()
    return tuple(indices.unbind(1))


@keras_op
def scatter(indices, values, shape):
    """Returns a zeros tensor of `shape` with `values` added at `indices` (duplicates sum).

    Args:
        indices: Integer tensor `(..., k)`: each row indexes the first `k` dims of `shape`.
        values: Tensor `indices.shape[:-1] + shape[k:]`.
        shape: The output shape.
    """
    values = to_tensor(values)
    indices = like(indices, values)
    shape = tuple(int(s) for s in shape)
    k = indices.shape[-1]
    out = torch.zeros(shape, dtype=values.dtype, device=values.device)
    values = values.reshape((-1,) + shape[k:])
    return out.index_put_(_index_tuple(indices), values, accumulate=True)


_SCATTER_REDUCE = {"max": "amax", "min": "amin", "mul": "prod"}


@keras_op
def scatter_update(inputs, indices, updates, reduction=None):
    """Returns `inputs` with `updates` written (or reduced) at `indices`.

    Args:
        inputs: The tensor to update (not modified).
        indices: Integer tensor `(n, k)`: each row indexes the first `k` dims of `inputs`.
        updates: Tensor `(n,) + inputs.shape[k:]`.
        reduction: `None` (overwrite), `"add"`, `"max"`, `"min"` or `"mul"`.
    """
    inputs = to_tensor(inputs)
    indices = like(indices, inputs)
    updates = like(updates, inputs).to(inputs.dtype)
    k = indices.shape[-1]
    index = _index_tuple(indices)
    updates = updates.reshape((-1,) + tuple(inputs.shape[k:]))
    if reduction is None:
        return inputs.index_put(index, updates)
    if reduction == "add":
        return inputs.index_put(index, updates, accumulate=True)
    if reduction not in _SCATTER_REDUCE:
        raise ValueError(f"Unsupported reduction: {reduction}")
    lead = tuple(inputs.shape[:k])
    rest = tuple(inputs.shape[k:])
    flat_index = torch.zeros_like(index[0])
    for i, size in zip(index, lead):
        flat_index = flat_index * size + i
    flat_index = flat_index.reshape((-1,) + (1,) * len(rest)).expand(updates.shape)
    out = inputs.reshape((-1,) + rest).scatter_reduce(
        0, flat_index, updates, reduce=_SCATTER_REDUCE[reduction], include_self=True
    )
    return out.reshape(inputs.shape)


def _static_ints(values):
    return isinstance(values, (list, tuple)) and builtins.all(
        isinstance(v, (int, torch.SymInt)) and not isinstance(v, bool) for v in values
    )


@keras_op(name="slice")
def slice(inputs, start_indices, shape):
    """Returns the block of `inputs` of size `shape` starting at `start_indices`.

    Python ints slice directly; tensor start indices give a dynamic slice (`torch.narrow`, no
    host sync).
    """
    inputs = to_tensor(inputs)
    if _static_ints(start_indices) and _static_ints(shape):
        return inputs[tuple(builtins.slice(s, s + n) for s, n in zip(start_indices, shape))]
    if isinstance(shape, torch.Tensor):
        shape = shape.tolist()
    out = inputs
    for dim, size in enumerate(shape):
        start = start_indices[dim]
        if isinstance(start, torch.Tensor):
            start = start.to(device=inputs.device, dtype=torch.long)
        out = torch.narrow(out, dim, start, int(size))
    return out


@keras_op
def slice_update(inputs, start_indices, updates):
    """Returns `inputs` with the block at `start_indices` replaced by `updates`."""
    inputs = to_tensor(inputs)
    updates = like(updates, inputs).to(inputs.dtype)
    if _static_ints(start_indices):
        index = tuple(builtins.slice(s, s + n) for s, n in zip(start_indices, updates.shape))
        out = inputs.clone()
        out[index] = updates
        return out
    starts = like(start_indices, inputs).long()
    ranges = [
        torch.arange(n, device=inputs.device) + starts[d] for d, n in enumerate(updates.shape)
    ]
    grids = torch.meshgrid(*ranges, indexing="ij")
    return inputs.index_put(tuple(g.reshape(-1) for g in grids), updates.reshape(-1))


@keras_op
def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of tensors with that axis removed."""
    x = to_tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"`num` ({num}) does not match x.shape[{axis}] ({x.shape[axis]}).")
    return list(x.unbind(axis))
