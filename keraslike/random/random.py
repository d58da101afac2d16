"""`keras.random` ops: random tensors drawn with Keras 3's seeding rules, on torch generators.

Every op takes `seed`: an integer (stateless: the same seed gives the same values), a
`SeedGenerator` (its state advances at each call) or `None` (the global `SeedGenerator`, reset by
`keras.utils.set_random_seed`). Eager calls draw from a `torch.Generator` seeded as Keras 3's torch
backend seeds it, so the numbers equal Keras 3's on the same device.

Under `torch.compile` (where `torch.Generator` objects cannot be traced) the ops draw from torch's
global generator instead, which `keras.utils.set_random_seed` seeds, and a `SeedGenerator`'s
counter still advances as a tensor update: compiled models never break the graph on a random op,
and compiled runs are repeatable, though their numbers differ from eager ones. On `meta` tensors
(shape inference of a symbolic call) nothing is drawn and no state advances.
"""

import torch

from keraslike.backend import config
from keraslike.ops.core import standardize_dtype, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.random.seed_generator import SeedGenerator, torch_seed


def _device():
    if torch.compiler.is_compiling():
        return None  # creation ops use the default device; asking for it breaks the graph
    getter = getattr(torch, "get_default_device", None)
    return getter() if getter is not None else torch.device("cpu")


def _generator(seed, device):
    """The `torch.Generator` for one draw with Keras seed `seed`, or `None` for the global one."""
    if torch.compiler.is_compiling():
        if isinstance(seed, SeedGenerator):
            seed._advance(True)
        return None
    device = torch.device(device)
    if device.type == "meta":
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(torch_seed(seed))
    return generator


def _shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def _float_dtype(dtype):
    return to_torch_dtype(dtype or config.floatx())


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws random samples from a normal (Gaussian) distribution.

    Args:
        shape: The shape of the random values to generate.
        mean: Float, mean of the distribution (default 0).
        stddev: Float, standard deviation of the distribution (default 1).
        dtype: Optional float dtype; `keras.config.floatx()` by default.
        seed: An integer, a `keras.random.SeedGenerator` or `None` (the global generator).

    Returns:
        A tensor of the given shape.
    """
    device = _device()
    return torch.normal(
        mean, stddev, size=_shape(shape), generator=_generator(seed, device),
        dtype=_float_dtype(dtype), device=device,
    )


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draws samples from a uniform distribution on `[minval, maxval)`.

    Args:
        shape: The shape of the random values to generate.
        minval: Float, lower bound (inclusive).
        maxval: Float, upper bound (exclusive).
        dtype: Optional float dtype; `keras.config.floatx()` by default.
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor of the given shape.
    """
    if dtype and not standardize_dtype(dtype).startswith(("float", "bfloat")):
        raise ValueError(
            f"`keras.random.uniform` requires a floating point `dtype`. Received: dtype={dtype} "
        )
    requested = _shape(shape)
    device = _device()
    values = torch.rand(
        requested or (1,), generator=_generator(seed, device), dtype=_float_dtype(dtype),
        device=device,
    )
    values = (maxval - minval) * values + minval
    return values[0] if not requested else values


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Draws random integers from a uniform distribution on `[minval, maxval)`.

    Args:
        shape: The shape of the random values to generate.
        minval: Integer, lower bound (inclusive).
        maxval: Integer, upper bound (exclusive).
        dtype: Optional integer dtype (default `"int32"`).
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor of the given shape.
    """
    if dtype and not standardize_dtype(dtype).startswith(("int", "uint")):
        raise ValueError(
            f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype} "
        )
    device = _device()
    return torch.randint(
        low=minval, high=maxval, size=_shape(shape), generator=_generator(seed, device),
        dtype=to_torch_dtype(dtype), device=device,
    )


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws samples from a normal distribution truncated to two standard deviations.

    Values more than two standard deviations from the mean are redrawn (Keras draws four
    candidates per value and keeps the first inside the interval).

    Args:
        shape: The shape of the random values to generate.
        mean: Float, mean of the distribution.
        stddev: Float, standard deviation of the distribution before truncation.
        dtype: Optional float dtype; `keras.config.floatx()` by default.
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor of the given shape.
    """
    shape = _shape(shape)
    candidates = normal(shape + (4,), dtype=dtype, seed=seed)  # (*shape, 4)
    inside = (candidates > -2) & (candidates < 2)
    first = inside.max(-1, keepdim=True)[1]
    return candidates.gather(-1, first).squeeze(-1) * stddev + mean


@keras_op
def dropout(inputs, rate, noise_shape=None, seed=None):
    """Randomly sets entries of `inputs` to 0 with probability `rate`, scaling the rest up.

    Kept entries are multiplied by `1 / (1 - rate)` so the expected sum is unchanged.

    Args:
        inputs: A tensor.
        rate: Float in `[0, 1]`, the probability of dropping an entry.
        noise_shape: Optional shape of the keep mask, broadcast to `inputs` (`None` entries take
            the input's size), e.g. `(batch, 1, features)` to drop the same features at every step.
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor like `inputs`.
    """
    inputs = to_tensor(inputs)
    if rate == 1.0:
        return torch.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    seeded = seed is not None and not (
        isinstance(seed, SeedGenerator) and seed._initial_seed is None
    )
    if not seeded and noise_shape is None:
        return torch.nn.functional.dropout(inputs, p=rate, training=True)
    keep = 1.0 - rate
    if noise_shape is None:
        mask_shape = tuple(inputs.shape)
    else:
        mask_shape = tuple(
            inputs.shape[i] if size is None else size for i, size in enumerate(noise_shape)
        )
    probabilities = torch.full(mask_shape, keep, device=inputs.device)
    mask = torch.bernoulli(probabilities, generator=_generator(seed, inputs.device)).bool()
    mask = torch.broadcast_to(mask, inputs.shape)
    return torch.where(mask, inputs / keep, torch.zeros_like(inputs))


@keras_op
def shuffle(x, axis=0, seed=None):
    """Shuffles the elements of `x` along `axis` (the same permutation for every other index).

    Args:
        x: The tensor to shuffle.
        axis: The axis to shuffle along (default 0).
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor like `x`, shuffled along `axis`.
    """
    x = to_tensor(x)
    axis = axis % x.ndim if x.ndim else 0
    keys = torch.rand(
        tuple(x.shape[: axis + 1]), generator=_generator(seed, x.device), device=x.device
    )
    order = keys.argsort(axis)
    order = order.reshape(tuple(order.shape) + (1,) * (x.ndim - axis - 1)).expand(x.shape)
    return x.gather(axis, order)


@keras_op
def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws samples from categorical distributions given by (unnormalized) log-probabilities.

    Args:
        logits: A 2D tensor `(batch_size, num_classes)` of log-probabilities.
        num_samples: Number of samples to draw for each row.
        dtype: Integer dtype of the result (default `"int32"`).
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor `(batch_size, num_samples)` of class indices.
    """
    logits = to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(
            "`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
            f"Received: logits={logits}"
        )
    probabilities = torch.softmax(logits, dim=-1)
    samples = torch.multinomial(
        probabilities, num_samples, replacement=True,
        generator=_generator(seed, logits.device),
    )
    return samples.to(to_torch_dtype(dtype))


def _broadcast(value, shape, device):
    return torch.broadcast_to(to_tensor(value, device=device), shape)


def gamma(shape, alpha, dtype=None, seed=None):
    """Draws samples from a Gamma distribution with concentration `alpha` and rate 1.

    Args:
        shape: The shape of the random values to generate.
        alpha: Float or tensor broadcastable to `shape`, the concentration.
        dtype: Optional float dtype; `keras.config.floatx()` by default.
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor of the given shape.
    """
    shape, device = _shape(shape), _device()
    alpha = _broadcast(alpha, shape, device)
    sample = torch._standard_gamma(alpha, generator=_generator(seed, device))
    return sample.to(_float_dtype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Draws samples from a binomial distribution.

    Args:
        shape: The shape of the random values to generate.
        counts: Number of trials, a number or a tensor broadcastable to `shape`.
        probabilities: Success probability of each trial, broadcastable to `shape`.
        dtype: Optional float dtype; `keras.config.floatx()` by default.
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor of the given shape: the number of successes.
    """
    shape, device = _shape(shape), _device()
    counts = _broadcast(counts, shape, device)
    probabilities = _broadcast(probabilities, shape, device)
    counts, probabilities = torch.broadcast_tensors(
        counts.to(probabilities.dtype) if probabilities.is_floating_point() else counts.float(),
        probabilities if probabilities.is_floating_point() else probabilities.float(),
    )
    sample = torch.binomial(counts, probabilities, generator=_generator(seed, device))
    return sample.to(_float_dtype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Draws samples from a Beta distribution with concentrations `alpha` and `beta`.

    Args:
        shape: The shape of the random values to generate.
        alpha: Float or tensor broadcastable to `shape`, the first concentration.
        beta: Float or tensor broadcastable to `shape`, the second concentration.
        dtype: Optional float dtype; `keras.config.floatx()` by default.
        seed: An integer, a `keras.random.SeedGenerator` or `None`.

    Returns:
        A tensor of the given shape, values in `[0, 1]`.
    """
    shape, device = _shape(shape), _device()
    alpha = _broadcast(alpha, shape, device)
    beta = _broadcast(beta, shape, device)
    concentration = torch.stack(torch.broadcast_tensors(alpha, beta), -1)  # (*shape, 2)
    sample = torch._sample_dirichlet(concentration, generator=_generator(seed, device))
    return sample.select(-1, 0).to(_float_dtype(dtype))
