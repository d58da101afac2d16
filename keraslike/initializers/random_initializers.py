"""Random initializers, drawn as Keras 3's torch backend draws them (same values per seed)."""

import math

import torch

from keraslike.initializers.initializer import _shape, _torch_dtype, compute_fans, Initializer
from keraslike.random.seeds import make_default_seed


# --- random draws, laid out like Keras's torch backend so seeded values match it -------------


def _generator(seed, device):
    """A fresh generator on `device` for an integer seed (the same values each call), as Keras's
    `torch_seed_generator`; `None` on the meta device, where nothing is drawn."""
    if device.type == "meta":
        return None
    return torch.Generator(device=device).manual_seed(seed & 0xFFFFFFFF)


def _normal(shape, mean, stddev, dtype, seed):
    # `torch.normal(float, float, size=...)` ignores `with torch.device(...)` (`torch.rand`
    # follows it): without naming the default device, a model built under
    # `torch.device("meta")` drew its normal weights on the CPU (seconds for a big model) and
    # one built under `torch.device("cuda")` drew them on the CPU and copied them over.
    device = torch.get_default_device()
    generator = _generator(seed, device)
    return torch.normal(mean, stddev, size=shape, generator=generator, dtype=dtype, device=device)


def _uniform(shape, minval, maxval, dtype, seed):
    # Keras: (maxval - minval) * U[0, 1) + minval, drawing one value for a scalar shape.
    draw_shape = shape if len(shape) else (1,)
    device = torch.get_default_device()
    generator = _generator(seed, device)
    out = (maxval - minval) * torch.rand(draw_shape, generator=generator, dtype=dtype, device=device) + minval
    return out if len(shape) else out[0]


def _truncated_normal(shape, mean, stddev, dtype, seed):
    # Keras draws 4 standard normals per value and keeps the first inside (-2, 2).
    x = _normal(tuple(shape) + (4,), 0.0, 1.0, dtype, seed)
    first_valid = ((x > -2) & (x < 2)).max(-1, keepdim=True)[1]
    return x.gather(-1, first_valid).squeeze(-1).mul_(stddev).add_(mean)


class RandomInitializer(Initializer):
    """Base class of the random initializers: holds and validates `seed`.

    As in Keras 3, an initializer made without a seed draws one at construction from Python's
    `random` (which `keras.utils.set_random_seed` seeds), so a seeded program's initial weights
    are Keras's, and each call of that initializer returns the same values (Keras's rule; a
    layer makes its own initializer from a name, so its layers still differ). The config keeps
    `seed: None`.

    Args:
        seed: `None` or a Python integer (each call returns the same values, equal to Keras
            3's for that seed).
    """

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(
                "`seed` argument should be an integer or `None` "
                f"(keraslike has no `SeedGenerator` objects). Received: seed={seed}"
            )
        self._init_seed = seed
        self.seed = make_default_seed() if seed is None else seed

    def get_config(self):
        return {"seed": self._init_seed}


class RandomNormal(RandomInitializer):
    """Random normal initializer: samples from `N(mean, stddev**2)`.

    Args:
        mean: Mean of the random values.
        stddev: Standard deviation of the random values.
        seed: `None` or a Python integer; see `RandomInitializer`.

    Example:

    >>> initializer = RandomNormal(mean=0.0, stddev=1.0)
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _normal(_shape(shape), self.mean, self.stddev, _torch_dtype(dtype), self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Truncated normal initializer: like `RandomNormal`, redrawing values beyond 2 stddev.

    Args:
        mean: Mean of the random values.
        stddev: Standard deviation of the normal before truncation.
        seed: `None` or a Python integer; see `RandomInitializer`.

    Example:

    >>> initializer = TruncatedNormal(mean=0.0, stddev=1.0)
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _truncated_normal(_shape(shape), self.mean, self.stddev, _torch_dtype(dtype), self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Random uniform initializer: samples from `U[minval, maxval)`.

    Args:
        minval: Lower bound of the range (inclusive).
        maxval: Upper bound of the range (exclusive).
        seed: `None` or a Python integer; see `RandomInitializer`.

    Example:

    >>> initializer = RandomUniform(minval=0.0, maxval=1.0)
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _uniform(_shape(shape), self.minval, self.maxval, _torch_dtype(dtype), self.seed)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Initializer that adapts its scale to the shape of the weight.

    With `n` the fan-in, fan-out or their average (per `mode`): `"truncated_normal"` draws from a
    normal truncated at 2 stddev with stddev `sqrt(scale / n)` after truncation,
    `"untruncated_normal"` from `N(0, scale / n)`, and `"uniform"` from `U[-limit, limit]` with
    `limit = sqrt(3 * scale / n)`.

    Args:
        scale: Positive scaling factor.
        mode: One of `"fan_in"`, `"fan_out"`, `"fan_avg"`.
        distribution: One of `"truncated_normal"` (alias `"normal"`), `"untruncated_normal"`,
            `"uniform"`.
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = VarianceScaling(scale=0.1, mode="fan_in", distribution="uniform")
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed_distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed_distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. "
                f"Please use one of {allowed_distributions}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        dtype = _torch_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        if self.mode == "fan_in":
            scale = self.scale / max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale = self.scale / max(1.0, fan_out)
        else:
            scale = self.scale / max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a standard normal truncated to (-2, 2).
            stddev = math.sqrt(scale) / 0.87962566103423978
            return _truncated_normal(shape, 0.0, stddev, dtype, self.seed)
        if self.distribution == "untruncated_normal":
            return _normal(shape, 0.0, math.sqrt(scale), dtype, self.seed)
        limit = math.sqrt(3.0 * scale)
        return _uniform(shape, -limit, limit, dtype, self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A `VarianceScaling` preset: subclasses set `_SCALE`, `_MODE`, `_DISTRIBUTION`."""

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(
            scale=self._SCALE,
            mode=self._MODE,
            distribution=self._DISTRIBUTION,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self):
        return {"seed": self._init_seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform initializer: `U[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Args:
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = GlorotUniform()
    >>> values = initializer(shape=(2, 2))
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal initializer: truncated normal, `stddev = sqrt(2 / (fan_in + fan_out))`.

    Args:
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = GlorotNormal()
    >>> values = initializer(shape=(2, 2))
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal initializer: truncated normal with `stddev = sqrt(1 / fan_in)`.

    Args:
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = LecunNormal()
    >>> values = initializer(shape=(2, 2))
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform initializer: `U[-limit, limit]` with `limit = sqrt(3 / fan_in)`.

    Args:
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = LecunUniform()
    >>> values = initializer(shape=(2, 2))
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """He normal initializer: truncated normal with `stddev = sqrt(2 / fan_in)`.

    Args:
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = HeNormal()
    >>> values = initializer(shape=(2, 2))
    """

    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """He uniform initializer: `U[-limit, limit]` with `limit = sqrt(6 / fan_in)`.

    Args:
        seed: `None` or a Python integer; see `RandomInitializer`.
        input_axes: Optional list of axes that make up the fan-in.
        output_axes: Optional list of axes that make up the fan-out.

    Example:

    >>> initializer = HeUniform()
    >>> values = initializer(shape=(2, 2))
    """

    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "uniform"


class Orthogonal(RandomInitializer):
    """Initializer that generates an orthogonal matrix (Saxe et al., 2014).

    The weight is viewed as a matrix `(prod(shape[:-1]), shape[-1])` and filled with the Q factor
    of the QR decomposition of a standard normal matrix: orthonormal columns when it has more rows
    than columns, orthonormal rows otherwise.

    Args:
        gain: Multiplicative factor applied to the orthogonal matrix.
        seed: `None` or a Python integer; see `RandomInitializer`.

    Example:

    >>> initializer = Orthogonal()
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = _torch_dtype(dtype)
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        a = _normal(flat_shape, 0.0, 1.0, dtype, self.seed)
        # QR has no half-precision kernel; factor in float32 at least.
        q, r = torch.linalg.qr(a.to(torch.promote_types(dtype, torch.float32)))
        q = q * torch.sign(torch.diagonal(r))  # makes the decomposition unique (uniform Q)
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}
