"""More array ops: splitting and stacking by axis, flips and rotations, `kron`, `vander`,
`correlate`, `select`, `unravel_index`, `logspace` / `geomspace`, `get_item`, `view`, `vectorize`."""

import re

import torch

from keraslike.backend import config
from keraslike.backend.dtypes import result_type
from keraslike.ops.core import to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _cast, _t


def _sections(indices_or_sections):
    if isinstance(indices_or_sections, int):
        return indices_or_sections
    if isinstance(indices_or_sections, torch.Tensor):
        return indices_or_sections.tolist()
    return list(indices_or_sections)


@keras_op
def hsplit(x, indices_or_sections):
    """Splits `x` horizontally (along axis 1, or 0 for 1D) into a list of tensors."""
    return list(torch.hsplit(_t(x), _sections(indices_or_sections)))


@keras_op
def vsplit(x, indices_or_sections):
    """Splits `x` vertically (along axis 0) into a list of tensors."""
    return list(torch.vsplit(_t(x), _sections(indices_or_sections)))


@keras_op
def dsplit(x, indices_or_sections):
    """Splits `x` along its third axis (depth) into a list of tensors."""
    return list(torch.dsplit(_t(x), _sections(indices_or_sections)))


@keras_op
def dstack(xs):
    """Stacks tensors along the third axis (depth), as NumPy's `dstack`."""
    xs = [_t(x) for x in xs]
    return torch.dstack(xs)


@keras_op
def fliplr(x):
    """Reverses `x` along axis 1 (left/right)."""
    return torch.fliplr(_t(x))


@keras_op
def flipud(x):
    """Reverses `x` along axis 0 (up/down)."""
    return torch.flipud(_t(x))


@keras_op
def rot90(array, k=1, axes=(0, 1)):
    """Rotates `array` by 90 degrees `k` times in the plane of `axes`."""
    array = _t(array)
    if array.ndim < 2:
        raise ValueError(
            f"Input array must have at least 2 dimensions. Received: array.ndim={array.ndim}"
        )
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    axes = tuple(a + array.ndim if a < 0 else a for a in axes)
    if not all(0 <= a < array.ndim for a in axes):
        raise ValueError(f"Invalid axes {axes} for tensor with {array.ndim} dimensions")
    return torch.rot90(array, k=k, dims=axes)


@keras_op
def diagflat(x, k=0):
    """A 2D tensor with the flattened `x` on its `k`-th diagonal."""
    return torch.diagflat(_t(x), offset=k)


@keras_op
def empty_like(x, dtype=None):
    """An uninitialized tensor with the shape (and by default dtype) of `x`."""
    x = _t(x)
    return torch.empty_like(x, dtype=to_torch_dtype(dtype) if dtype else x.dtype)


@keras_op
def kron(x1, x2):
    """The Kronecker product of `x1` and `x2`."""
    x1 = _t(x1)
    return torch.kron(x1, to_tensor(x2, device=x1.device))


@keras_op
def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's argument name
    """The Vandermonde matrix of the 1D `x`: columns are powers of `x` (decreasing by default)."""
    x = _t(x)
    return _cast(torch.vander(x, N=N, increasing=increasing), result_type(x.dtype))


@keras_op
def unravel_index(indices, shape):
    """Converts flat `indices` into a tuple of coordinate tensors for an array of `shape`."""
    indices = _t(indices)
    dtype = result_type(indices.dtype)
    return tuple(_cast(i, dtype) for i in torch.unravel_index(indices, tuple(shape)))


@keras_op
def select(condlist, choicelist, default=0):
    """Picks, element-wise, the value of the first true condition's choice (`default` if none)."""
    conditions = [_t(c) for c in condlist]
    choices = [_t(c) for c in choicelist]
    out = to_tensor(default, device=choices[0].device if choices else None)
    for condition, choice in reversed(list(zip(conditions, choices))):
        out = torch.where(condition, choice, out)
    return out


@keras_op
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1D tensors (`mode` `"valid"`, `"same"` or `"full"`)."""
    x1, x2 = _t(x1), _t(x2)
    for name, x in (("x1", x1), ("x2", x2)):
        if x.ndim != 1:
            raise ValueError(
                f"`{name}` must be a 1-dimensional tensor, but received shape {tuple(x.shape)}"
            )
    dtype = result_type(x1.dtype, x2.dtype)
    if dtype == "int64":
        dtype = "float64"
    elif dtype not in ("bfloat16", "float16", "float64"):
        dtype = "float32"
    x1, x2 = _cast(x1, dtype), _cast(x2, dtype)
    n1, n2 = x1.shape[-1], x2.shape[-1]
    full = torch.nn.functional.conv1d(
        x1.reshape(1, 1, n1), x2.reshape(1, 1, n2), padding=n2 - 1
    ).reshape(-1)  # (n1 + n2 - 1,)
    if mode == "valid":
        length = max(n1, n2) - min(n1, n2) + 1
    elif mode == "same":
        length = n1
    elif mode == "full":
        return full
    else:
        raise ValueError(f"`mode` must be 'valid', 'same' or 'full'. Received: mode={mode}")
    start = (full.shape[-1] - length) // 2
    return full[start : start + length]


def _float_result(start, stop, dtype):
    if dtype is None:
        dtype = result_type(
            getattr(start, "dtype", type(start)), getattr(stop, "dtype", type(stop)), float
        )
    return to_torch_dtype(dtype)


@keras_op
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """`num` numbers spaced evenly on a log scale, from `base**start` to `base**stop`."""
    if axis != 0:
        raise ValueError(f"`logspace` supports only `axis=0`. Received axis={axis}")
    dtype = _float_result(start, stop, dtype)
    if not endpoint:
        stop = stop - (stop - start) / num
    if hasattr(start, "__len__") and hasattr(stop, "__len__"):
        start, stop = to_tensor(start, dtype=dtype), to_tensor(stop, dtype=dtype)
        steps = torch.arange(num, dtype=dtype, device=start.device) / (num - 1)
        steps = steps.reshape((num,) + (1,) * start.ndim)
        return base ** (start[None] + steps * (stop - start)[None])
    compute = torch.float32 if dtype == torch.float16 else dtype
    return torch.logspace(start, stop, steps=num, base=base, dtype=compute).to(dtype)


@keras_op
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`num` numbers spaced evenly on a log scale (a geometric progression) from `start` to `stop`."""
    if axis != 0:
        raise ValueError(f"`geomspace` supports only `axis=0`. Received axis={axis}")
    dtype = _float_result(start, stop, dtype)
    start, stop = to_tensor(start, dtype=dtype), to_tensor(stop, dtype=dtype)
    log_start, log_stop = torch.log10(start.abs()), torch.log10(stop.abs())
    if not endpoint:
        log_stop = log_stop - (log_stop - log_start) / num
    steps = torch.arange(num, dtype=dtype, device=start.device) / (num - 1)
    steps = steps.reshape((num,) + (1,) * start.ndim)
    return 10 ** (log_start[None] + steps * (log_stop - log_start)[None]) * torch.sign(start)


@keras_op
def get_item(x, key):
    """`x[key]`: indexing as a function."""
    return _t(x)[key]


@keras_op
def view(x, dtype=None):
    """A view of `x`'s memory reinterpreted as `dtype` (the last axis rescaled by the sizes)."""
    return _t(x).view(dtype=to_torch_dtype(dtype if dtype is not None else config.floatx()))


_CORE = r"\(([\w,]*)\)"


def _parse_signature(signature):
    match = re.fullmatch(rf"{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*", signature.replace(" ", ""))
    if match is None:
        raise ValueError(f"Invalid `signature` for `vectorize`: {signature!r}")
    inputs, outputs = signature.replace(" ", "").split("->")
    parse = lambda part: [tuple(d for d in g.split(",") if d) for g in re.findall(_CORE, part)]  # noqa: E731
    return parse(inputs), parse(outputs)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Turns `pyfunc` (of tensors with the core shapes) into a function broadcast over the rest.

    Args:
        pyfunc: A function of torch tensors.
        excluded: Optional set of positional indices or keyword names passed through unchanged.
        signature: Optional generalized-ufunc signature such as `"(n),(n)->()"`; without one,
            `pyfunc` gets scalars (0-d tensors).

    Returns:
        The vectorized function (it runs `pyfunc` under `torch.vmap`).
    """
    excluded = set(excluded or ())
    core_in, _ = _parse_signature(signature) if signature else (None, None)

    def vectorized(*args, **kwargs):
        positions = [i for i in range(len(args)) if i not in excluded]
        tensors = [_t(args[i]) for i in positions]
        cores = [len(core_in[k]) if core_in else 0 for k in range(len(tensors))]
        batch = torch.broadcast_shapes(*(t.shape[: t.ndim - c] for t, c in zip(tensors, cores)))
        flat = [
            t.expand(batch + t.shape[t.ndim - c :]).reshape((-1,) + t.shape[t.ndim - c :])
            for t, c in zip(tensors, cores)
        ]

        def call(*items):
            full = list(args)
            for i, item in zip(positions, items):
                full[i] = item
            return pyfunc(*full, **kwargs)

        out = torch.vmap(call)(*flat) if flat else call()
        reshape = lambda o: o.reshape(batch + o.shape[1:])  # noqa: E731
        return tuple(reshape(o) for o in out) if isinstance(out, tuple) else reshape(out)

    return vectorized


__all__ = [
    "correlate", "diagflat", "dsplit", "dstack", "empty_like", "fliplr", "flipud", "geomspace",
    "get_item", "hsplit", "kron", "logspace", "rot90", "select", "unravel_index", "vander",
    "vectorize", "view", "vsplit",
]
