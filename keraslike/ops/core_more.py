"""More core ops: `associative_scan`, `custom_gradient`, `saturate_cast`, `rearrange`."""

import re

import numpy as np
import torch

from keraslike.backend.dtypes import standardize_dtype
from keraslike.ops.core import to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.tree import flatten, pack_sequence_as


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of `elems` along `axis` with an associative binary function `f`.

    `f(a, b)` combines two (nests of) tensors sliced along `axis`, `a` before `b`, and must be
    associative. The scan takes `ceil(log2(n))` vectorized steps (Hillis-Steele), each calling `f`
    once on whole slices, so it suits GPUs and `torch.compile`.

    Args:
        f: The associative combining function.
        elems: A tensor or a nest of tensors with the same size along `axis`.
        reverse: Scan from the end towards the start.
        axis: The axis to scan along.

    Returns:
        A nest like `elems`: element `i` is `f` applied over elements `0..i`.
    """
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    leaves = [_t(x) for x in flatten(elems)]
    length = leaves[0].shape[axis]
    if any(x.shape[axis] != length for x in leaves[1:]):
        raise ValueError(
            "Array inputs to associative_scan must have the same first dimension. (saw: "
            f"{[tuple(x.shape) for x in leaves]})"
        )
    if reverse:
        leaves = [torch.flip(x, (axis,)) for x in leaves]
    step = 1
    while step < length:
        earlier = pack_sequence_as(elems, [x.narrow(axis, 0, length - step) for x in leaves])
        later = pack_sequence_as(elems, [x.narrow(axis, step, length - step) for x in leaves])
        combined = [_t(x) for x in flatten(f(earlier, later))]
        leaves = [
            torch.cat([x.narrow(axis, 0, step), c], dim=axis) for x, c in zip(leaves, combined)
        ]
        step *= 2
    if reverse:
        leaves = [torch.flip(x, (axis,)) for x in leaves]
    return pack_sequence_as(elems, leaves)


class _CustomGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, forward_fn, *args):
        output, ctx.grad_fn = forward_fn(*args)
        ctx.save_for_backward(*[a for a in args if isinstance(a, torch.Tensor)])
        ctx.args = args
        return output

    @staticmethod
    def backward(ctx, *upstream):
        grads = ctx.grad_fn(*ctx.args, upstream=upstream[0] if len(upstream) == 1 else upstream)
        if not isinstance(grads, tuple):
            grads = (grads,)
        return (None,) + grads


def custom_gradient(f):
    """Decorator to define a function with a custom gradient.

    Args:
        f: Function `f(*args)` returning `(output, grad_fn)`; `grad_fn(*args, upstream=...)`
            returns the gradients with respect to `args` (one per argument) given the gradient
            `upstream` of `output`.

    Returns:
        A function `h(*args)` returning `f(*args)[0]`, whose gradient is given by `grad_fn`.

    Example:

    ```python
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad
    ```
    """

    def wrapped(*args, **kwargs):
        if kwargs:
            return _CustomGradient.apply(lambda *a: f(*a, **kwargs), *args)
        return _CustomGradient.apply(f, *args)

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped


def _limits(dtype):
    if dtype == "bool":
        return 0, 1
    torch_dtype = to_torch_dtype(dtype)
    info = torch.iinfo(torch_dtype) if not torch_dtype.is_floating_point else torch.finfo(torch_dtype)
    return info.min, info.max


@keras_op
def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping values to `dtype`'s range first (no wrap-around).

    `cast([-1., 256.], "uint8")` wraps to `[255, 0]`; `saturate_cast` gives `[0, 255]`.
    """
    x = _t(x)
    dtype = standardize_dtype(dtype)
    in_dtype = standardize_dtype(x.dtype)
    if in_dtype == "bool":  # 0 and 1 fit every dtype
        return x.to(to_torch_dtype(dtype))
    in_min, in_max = _limits(in_dtype)
    out_min, out_max = _limits(dtype)
    numpy_in = np.dtype("float32" if in_dtype == "bfloat16" else in_dtype)
    low = np.array(max(in_min, out_min)).astype(numpy_in)
    if low < out_min:
        low = np.nextafter(low, 0, dtype=numpy_in)
    high = np.array(min(in_max, out_max)).astype(numpy_in)
    if high > out_max:
        high = np.nextafter(high, 0, dtype=numpy_in)
    return torch.clamp(x, low.item(), high.item()).to(to_torch_dtype(dtype))


_AXIS = r"\w+|\(.*?\)"


@keras_op
def rearrange(tensor, pattern, **axes_lengths):
    """Rearranges the axes of `tensor` with an einops-style `pattern` (`"b (h w) c -> b h w c"`).

    Args:
        tensor: Input tensor.
        pattern: `"<input axes> -> <output axes>"`; parenthesized groups split or merge axes.
        **axes_lengths: Sizes of axes that cannot be inferred (`h=4`).

    Returns:
        The rearranged tensor.
    """
    tensor = _t(tensor)
    source, target = re.split(r"\s*->\s*", pattern)
    inputs, outputs = re.findall(_AXIS, source), re.findall(_AXIS, target)
    sizes = dict(axes_lengths)
    flat_inputs, flat_shape = [], []
    for token, dim in zip(inputs, tensor.shape):
        names = re.findall(r"\w+", token)
        if token.startswith("("):
            unknown = [n for n in names if n not in sizes]
            known = int(np.prod([sizes[n] for n in names if n in sizes]))
            for name in unknown[:1]:
                sizes[name] = dim // known
        else:
            sizes[token] = dim
        flat_inputs += names
        flat_shape += [sizes[n] for n in names]
    groups = [re.findall(r"\w+", token) for token in outputs]
    flat_outputs = [n for group in groups for n in group]
    tensor = tensor.reshape(flat_shape).permute([flat_inputs.index(n) for n in flat_outputs])
    return tensor.reshape([int(np.prod([sizes[n] for n in group])) for group in groups])
