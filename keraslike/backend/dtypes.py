"""Dtype names and promotion (`keras.backend.result_type`, `standardize_dtype`, ...), as Keras 3.

Keras promotes dtypes on a JAX-style lattice with weak Python scalars (`int`, `float`): an
`int32` tensor with a Python float gives `floatx()`, `int8` with `uint8` gives `int16`, `bfloat16`
with a Python int stays `bfloat16`. On the torch backend 64-bit results are narrowed to 32 bits
(`result_type("int64", "int64")` is `"int32"`), exactly as Keras 3 does; ops that keep 64 bits do
so explicitly.
"""

import functools

import numpy as np
import torch

from keraslike.backend import config

# Keras names -> torch dtypes (torch has no usable uint16/uint32: Keras widens them).
TORCH_DTYPES = {
    "float16": torch.float16,
    "float32": torch.float32,
    "float64": torch.float64,
    "bfloat16": torch.bfloat16,
    "uint8": torch.uint8,
    "uint16": torch.int32,
    "uint32": torch.int64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
    "float8_e4m3fn": torch.float8_e4m3fn,
    "float8_e5m2": torch.float8_e5m2,
}
ALIASES = {
    "float": "float32",
    "int": "int32",
    "double": "float64",
    "half": "float16",
    "long": "int64",
    "uint": "uint32",
}

BOOL_TYPES = ("bool",)
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
WEAK_TYPES = ("int", "float")
COMPLEX_TYPES = ("complex64", "complex128")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")


def standardize_dtype(dtype):
    """Returns the Keras dtype string for `dtype` (a string, `torch.dtype`, NumPy dtype or type).

    `None` gives `floatx()`; Python `int` gives `"int32"`, `float` `"float32"`, `bool` `"bool"`.

    Raises:
        ValueError: If `dtype` names no dtype Keras knows.
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, str):
        name = ALIASES.get(dtype, dtype)
    elif isinstance(dtype, torch.dtype):
        name = str(dtype)[6:]
    elif dtype is int:
        return "int32"
    elif dtype is float:
        return "float32"
    elif dtype is bool:
        return "bool"
    elif dtype is complex:
        return "complex64"
    elif hasattr(dtype, "name") and not isinstance(dtype, type):  # numpy dtype
        name = dtype.name
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = str(dtype)
    if name not in TORCH_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}")
    return name


def is_float_dtype(dtype):
    """Whether `dtype` is a floating dtype (`float16`, `bfloat16`, `float32`, `float64`, float8)."""
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    """Whether `dtype` is an integer dtype (signed or unsigned)."""
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


def _lattice():
    b1, = BOOL_TYPES
    u1, u2, u4, u8, i1, i2, i4, i8 = INT_TYPES
    bf, f2, f4, f8 = FLOAT_TYPES
    i_, f_ = WEAK_TYPES
    c64, c128 = COMPLEX_TYPES
    # Each dtype -> the dtypes immediately above it.
    return {
        b1: [i_], u1: [i2, u2], u2: [i4, u4], u4: [i8, u8], u8: [f_], i_: [u1, i1, c64],
        i1: [i2], i2: [i4], i4: [i8], i8: [f_], f_: [bf, f2], bf: [f4], f2: [f4],
        f4: [f8, c64], f8: [c128], c64: [c128], c128: [],
    }


def _upper_bounds():
    lattice = _lattice()
    bounds = {node: {node} for node in lattice}
    for node in lattice:
        while True:
            above = set().union(*(lattice[b] for b in bounds[node]))
            if above <= bounds[node]:
                break
            bounds[node] |= above
    return bounds


_UPPER_BOUNDS = _upper_bounds()
_NARROW_64 = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    nodes = set(nodes)
    for node in nodes:
        if node not in _UPPER_BOUNDS:
            raise ValueError(f"dtype={node!r} is not a valid dtype for Keras type promotion.")
    common = set.intersection(*(_UPPER_BOUNDS[n] for n in nodes))
    least = (common & nodes) or {c for c in common if common <= _UPPER_BOUNDS[c]}
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no available implicit dtype promotion "
            "path. Try explicitly casting inputs to the desired output type."
        )
    return least.pop()


def _weak(dtype, is_weak):
    if not is_weak or dtype == "bool":
        return dtype
    for family in ("float", "int", "complex"):
        if family in dtype:
            return family
    raise ValueError(f"Invalid value for argument `dtype`. Received: dtype={dtype}")


def _resolve_weak(dtype):
    precision = config.floatx()[-2:]
    first = "f" if dtype == "bfloat16" else dtype[:1]
    if first == "b":
        return "bool"
    if first == "i":
        return f"int{precision}"
    if first == "u":
        return f"uint{precision}"
    return f"float{precision}"


def result_type(*dtypes):
    """Returns the dtype Keras gives an operation on values of the given dtypes.

    Each argument is standardized (`standardize_dtype`); Python `int` and `float` are weak types
    that adopt the other operands' precision. The result is the least upper bound on Keras's (JAX's)
    promotion lattice.

    Args:
        *dtypes: Input dtypes (strings, `torch.dtype`s, Python types; `None` means `floatx()`).

    Returns:
        The result dtype, a string.

    Example:

    >>> keras.backend.result_type("int32", "float32")
    'float32'
    >>> keras.backend.result_type("bfloat16", int)
    'bfloat16'
    """
    if not dtypes:
        return config.floatx()
    for dtype in dtypes:
        if dtype in FLOAT8_TYPES:
            raise ValueError(
                "There is no implicit conversions from float8 dtypes to others. You must cast it "
                f"internally. Received: {dtypes}"
            )
    dtypes = [config.floatx() if d is None else d for d in dtypes]
    names = tuple(standardize_dtype(d) for d in dtypes)
    weak = tuple(d is int or d is float for d in dtypes)
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*set(names)), True
    else:
        out = _least_upper_bound(*{_weak(d, w) for d, w in zip(names, weak)})
        out_weak = out in WEAK_TYPES
    if out != "bool" and out_weak:
        out = _resolve_weak(out)
    return _NARROW_64.get(out, out)


_NARROW_64_TORCH = {
    torch.float64: torch.float32,
    torch.int64: torch.int32,
    torch.complex128: torch.complex64,
}
_FLOAT8_TORCH = (torch.float8_e4m3fn, torch.float8_e5m2)


@functools.lru_cache(512)
def _torch_result_cached(*dtypes):
    return TORCH_DTYPES[result_type(*dtypes)]


def torch_result_type(*dtypes):
    """The `torch.dtype` that `result_type(*dtypes)` names (for ops that compute in it).

    On torch dtypes Keras's lattice agrees with `torch.promote_types`, and a weak Python scalar
    does not change a float (or, for `int`, an integer) result, so those cases are answered
    without the lattice (and without its cache, which `torch.compile` would have to trace
    through); the result is then narrowed to 32 bits as Keras does.

    Args:
        *dtypes: `torch.dtype`s, NumPy dtypes, dtype names or Python types (`int` and `float`
            are weak, as in `result_type`).

    Returns:
        A `torch.dtype`.

    Example:

    >>> keras.backend.dtypes.torch_result_type(torch.float64, float)
    torch.float32
    """
    tensor_dtype, weak_float, weak_int = None, False, False
    for dtype in dtypes:
        if isinstance(dtype, torch.dtype) and dtype not in _FLOAT8_TORCH:
            if tensor_dtype is None or tensor_dtype is dtype:
                tensor_dtype = dtype
            else:
                tensor_dtype = torch.promote_types(tensor_dtype, dtype)
        elif dtype is float:
            weak_float = True
        elif dtype is int:
            weak_int = True
        else:
            return _torch_result_cached(*dtypes)
    if tensor_dtype is None:
        return _torch_result_cached(*dtypes)
    if not (tensor_dtype.is_floating_point or tensor_dtype.is_complex):
        if weak_float or (weak_int and tensor_dtype is torch.bool):
            return _torch_result_cached(*dtypes)  # the weak type decides: floatx()'s precision
    return _NARROW_64_TORCH.get(tensor_dtype, tensor_dtype)
