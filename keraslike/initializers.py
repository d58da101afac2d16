"""Weight initializers: Keras 3's classes, defaults, formulas and configs, producing torch tensors.

Every initializer is called as `init(shape, dtype=None)` with a shape in KERAS layout (a Dense kernel
is `(input_dim, units)`, a Conv2D kernel `(kh, kw, in, out)`) and returns a CPU `torch.Tensor`;
a layer that stores the weight in torch's layout transposes the result once, at build time.

Randomness. An initializer built with an integer `seed` draws from its own `torch.Generator`
seeded with it, so every call returns the same values; these values equal Keras 3's (torch backend,
CPU) for the same seed. An unseeded initializer draws from torch's global generator, so
`torch.manual_seed(...)` makes a model's initial weights reproducible, and two layers sharing one
unseeded initializer get different weights. (Keras instead fixes a random seed when an unseeded
initializer is built, so each of its calls repeats the same values.)
"""

import math

import numpy as np
import torch

from keraslike.backend.config import floatx
from keraslike.serialization.objects import deserialize_object, serialize_object
from keraslike.serialization.registry import get_registered_object

_MODULE = "keras.initializers"

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "float": torch.float32,
    "int": torch.int64,
    "double": torch.float64,
    "half": torch.float16,
}


def _torch_dtype(dtype):
    """Maps `None` (floatx), a Keras dtype string or a `torch.dtype` to a `torch.dtype`."""
    if dtype is None:
        return _DTYPES[floatx()]
    if isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    if name not in _DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected a float or int dtype such as 'float32'.")
    return _DTYPES[name]


def _shape(shape):
    return tuple(int(d) for d in shape)


def compute_fans(shape, input_axes=None, output_axes=None):
    """Computes the number of input and output units of a weight shape (Keras layout).

    Args:
        shape: Integer shape tuple, e.g. `(input_dim, units)` or `(kh, kw, in, out)`.
        input_axes: Optional list of axes whose sizes multiply into the fan-in.
        output_axes: Optional list of axes whose sizes multiply into the fan-out.

    Returns:
        A tuple of integers `(fan_in, fan_out)`. For rank > 2 the receptive field
        `prod(shape[:-2])` multiplies `shape[-2]` (fan-in) and `shape[-1]` (fan-out).

    Example:

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# --- random draws, laid out like Keras's torch backend so seeded values match it -------------


def _generator(seed):
    """A fresh generator for an integer seed (same values each call); `None` = global generator."""
    if seed is None:
        return None
    return torch.Generator().manual_seed(seed & 0xFFFFFFFF)


def _normal(shape, mean, stddev, dtype, seed):
    return torch.normal(mean, stddev, size=shape, generator=_generator(seed), dtype=dtype)


def _uniform(shape, minval, maxval, dtype, seed):
    # Keras: (maxval - minval) * U[0, 1) + minval, drawing one value for a scalar shape.
    draw_shape = shape if len(shape) else (1,)
    out = (maxval - minval) * torch.rand(draw_shape, generator=_generator(seed), dtype=dtype) + minval
    return out if len(shape) else out[0]


def _truncated_normal(shape, mean, stddev, dtype, seed):
    # Keras draws 4 standard normals per value and keeps the first inside (-2, 2).
    x = _normal(tuple(shape) + (4,), 0.0, 1.0, dtype, seed)
    first_valid = ((x > -2) & (x < 2)).max(-1, keepdim=True)[1]
    return x.gather(-1, first_valid).squeeze(-1).mul_(stddev).add_(mean)


class Initializer:
    """Initializer base class: all initializers inherit from this class.

    Subclasses implement `__call__(self, shape, dtype=None)` returning a tensor of that
    shape, and `get_config()` when they take arguments.

    Example:

    ```python
    class ExampleRandomNormal(keras.initializers.Initializer):
        def __init__(self, mean, stddev):
            self.mean = mean
            self.stddev = stddev

        def __call__(self, shape, dtype=None):
            return torch.normal(self.mean, self.stddev, size=shape)

        def get_config(self):
            return {"mean": self.mean, "stddev": self.stddev}
    ```
    """

    def __call__(self, shape, dtype=None):
        """Returns a tensor of `shape` and `dtype` initialized as specified by the initializer.

        Args:
            shape: Shape of the tensor, in Keras layout.
            dtype: Optional dtype (string or `torch.dtype`); defaults to `keras.config.floatx()`.
        """
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        """Returns the initializer's configuration as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Instantiates an initializer from the output of `get_config()`."""
        return cls(**config)

    def clone(self):
        """Returns a new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Initializer that generates tensors with a constant value.

    Args:
        value: A Python scalar.

    Example:

    >>> initializer = Constant(10.0)
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return torch.full(_shape(shape), self.value, dtype=_torch_dtype(dtype))

    def get_config(self):
        value = self.value
        if isinstance(value, (np.generic, np.ndarray, torch.Tensor)):
            value = value.tolist() if getattr(value, "ndim", 0) else value.item()
        return {"value": value}


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0.

    Example:

    >>> initializer = Zeros()
    >>> values = initializer(shape=(2, 2))
    """

    def __call__(self, shape, dtype=None):
        return torch.zeros(_shape(shape), dtype=_torch_dtype(dtype))


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1.

    Example:

    >>> initializer = Ones()
    >>> values = initializer(shape=(2, 2))
    """

    def __call__(self, shape, dtype=None):
        return torch.ones(_shape(shape), dtype=_torch_dtype(dtype))


class Identity(Initializer):
    """Initializer that generates the identity matrix (2D shapes only; non-square gives `eye(n, m)`).

    Args:
        gain: Multiplicative factor applied to the identity matrix.

    Example:

    >>> initializer = Identity()
    >>> values = initializer(shape=(2, 2))
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_torch_dtype(dtype))

    def get_config(self):
        # Keras 3 returns an empty config here (so `gain` does not survive a round trip there).
        return {}


class RandomInitializer(Initializer):
    """Base class of the random initializers: holds and validates `seed`.

    Args:
        seed: `None` (draw from torch's global generator) or a Python integer (each call
            returns the same values, equal to Keras 3's for that seed).
    """

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(
                "`seed` argument should be an integer or `None` "
                f"(keraslike has no `SeedGenerator` objects). Received: seed={seed}"
            )
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}


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
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


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


# Lowercase aliases, as exported by Keras (they are the classes themselves).
constant = Constant
zeros = Zeros
ones = Ones
identity = Identity
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
he_uniform = HeUniform
he_normal = HeNormal
orthogonal = Orthogonal
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal

ALL_OBJECTS_DICT = {
    cls.__name__: cls
    for cls in (
        Initializer, Constant, Zeros, Ones, Identity, RandomNormal, RandomUniform, TruncatedNormal,
        VarianceScaling, GlorotUniform, GlorotNormal, LecunUniform, LecunNormal, HeUniform,
        HeNormal, Orthogonal,
    )
}
ALL_OBJECTS_DICT.update(
    {
        "initializer": Initializer,
        "constant": Constant,
        "zeros": Zeros,
        "zero": Zeros,
        "ones": Ones,
        "one": Ones,
        "identity": Identity,
        "IdentityInitializer": Identity,
        "random_normal": RandomNormal,
        "normal": RandomNormal,
        "random_uniform": RandomUniform,
        "uniform": RandomUniform,
        "truncated_normal": TruncatedNormal,
        "variance_scaling": VarianceScaling,
        "glorot_uniform": GlorotUniform,
        "glorot_normal": GlorotNormal,
        "lecun_uniform": LecunUniform,
        "lecun_normal": LecunNormal,
        "he_uniform": HeUniform,
        "he_normal": HeNormal,
        "orthogonal": Orthogonal,
        "OrthogonalInitializer": Orthogonal,
    }
)
_BUILTIN_CLASSES = frozenset(ALL_OBJECTS_DICT.values())
_UNKNOWN_HINT = (
    "Please ensure you are using a `keras.utils.custom_object_scope` and that this object is "
    "included in the scope, or pass it in `custom_objects`."
)


def serialize(initializer):
    """Returns the initializer's configuration in Keras 3's serialized-object format.

    Args:
        initializer: An `Initializer` instance (or `None`).

    Returns:
        A dict `{"module", "class_name", "config", "registered_name"}`, as Keras 3 writes it.

    Example:

    >>> keras.initializers.serialize(keras.initializers.GlorotUniform())
    {'module': 'keras.initializers', 'class_name': 'GlorotUniform',
     'config': {'seed': None, 'input_axes': None, 'output_axes': None}, 'registered_name': None}
    """
    if initializer is None:
        return None
    return serialize_object(initializer, _MODULE, _BUILTIN_CLASSES, kind="initializer")


def deserialize(config, custom_objects=None):
    """Returns an initializer instance from its serialized form.

    Args:
        config: A dict from `serialize()` (Keras 3 or Keras 2 style `{"class_name", "config"}`),
            or a class name string.
        custom_objects: Optional dict mapping names to custom classes.

    Returns:
        An initializer instance.

    Example:

    >>> keras.initializers.deserialize({"class_name": "Ones", "config": {}})
    Ones()
    """
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, kind="initializer",
                              unknown_hint=_UNKNOWN_HINT)


def get(identifier):
    """Retrieves an initializer from an identifier.

    Args:
        identifier: `None`, a name (`"glorot_uniform"`, `"GlorotUniform"`), a serialized dict, an
            initializer class (instantiated with defaults), an instance or any callable
            `fn(shape, dtype=None)`, or a tensor / NumPy array giving the values directly.

    Returns:
        An initializer (or callable), or `None` when `identifier` is `None`.

    Example:

    >>> init = keras.initializers.get("he_normal")
    >>> kernel = init((64, 32))
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        cls = get_registered_object(identifier, None, ALL_OBJECTS_DICT)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        obj = cls()
    elif isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        values = torch.as_tensor(identifier)

        def initialize_fn(shape, dtype=None):
            if _shape(shape) != tuple(values.shape):
                raise ValueError(
                    f"Expected `shape` to be {tuple(values.shape)} for direct tensor as "
                    f"initializer. Received shape={shape}"
                )
            return values.to(device="cpu", dtype=_torch_dtype(dtype), copy=True)

        obj = initialize_fn
    else:
        obj = identifier
    if callable(obj):
        return obj() if isinstance(obj, type) else obj
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
