"""Weight regularizers: Keras 3's `keras.regularizers`, returning 0-d torch tensors.

A regularizer is called on a weight tensor (or a layer's output, for activity regularization) and
returns a scalar penalty tensor of the same dtype and device, added to the training loss. No
regularizer syncs with the host. `OrthogonalRegularizer` reads rows and columns of the weight in
KERAS layout (a Dense kernel is `(input_dim, units)`); a layer storing torch's layout passes the
Keras-layout view.
"""

import math

import torch

from keraslike.backend.config import epsilon
from keraslike.serialization.objects import deserialize_object, get_object, serialize_object

_MODULE = "keras.regularizers"


def _as_float32(value):
    """Rounds to float32 and back, as Keras does for factors it keeps as float32 tensors."""
    return torch.tensor(value, dtype=torch.float32).item()


def validate_float_arg(value, name):
    """Returns `value` as a float, raising `ValueError` unless it is a finite non-negative number."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (float, int))
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Regularizer base class.

    Subclasses implement `__call__(self, x)` returning a scalar tensor and `get_config()`.
    Any function `fn(weight) -> scalar tensor` also works as a regularizer.

    Example:

    ```python
    class L2Regularizer(keras.regularizers.Regularizer):
        def __init__(self, l2=0.0):
            self.l2 = l2

        def __call__(self, x):
            return self.l2 * torch.sum(torch.square(x))

        def get_config(self):
            return {"l2": float(self.l2)}
    ```
    """

    def __call__(self, x):
        """Computes a regularization penalty from an input tensor."""
        return 0.0

    @classmethod
    def from_config(cls, config):
        """Creates a regularizer from the output of `get_config()`."""
        return cls(**config)

    def get_config(self):
        """Returns the regularizer's configuration as a JSON-serializable dict."""
        # `object.__repr__`, as Keras's message shows: `repr(self)` calls `get_config`, and a
        # subclass's `get_config` calling this one would recurse without end.
        raise NotImplementedError(f"{object.__repr__(self)} does not implement get_config()")

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """Applies both L1 and L2 penalties: `l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Args:
        l1: Non-negative float, the L1 factor.
        l2: Non-negative float, the L2 factor.

    Example:

    >>> reg = keras.regularizers.L1L2(l1=0.01, l2=0.01)
    >>> reg(torch.ones(2, 2))
    tensor(0.0800)
    """

    def __init__(self, l1=0.0, l2=0.0):
        # Both default to 0 (unlike `L1`/`L2`), so `L1L2(l2=0.1)` has no L1 penalty.
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1 != 0.0:
            penalty = penalty + self.l1 * torch.sum(torch.abs(x))
        if self.l2 != 0.0:
            penalty = penalty + self.l2 * torch.sum(torch.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """Applies an L1 penalty: `l1 * sum(abs(x))`.

    Also available as the string `"l1"` (with `l1=0.01`).

    Args:
        l1: Non-negative float, the L1 factor.

    Example:

    >>> keras.regularizers.L1(0.5)(torch.tensor([-1.0, 2.0]))
    tensor(1.5000)
    """

    def __init__(self, l1=0.01):
        l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")
        self.l1 = _as_float32(l1)  # Keras keeps it as a float32 tensor; configs show that value

    def __call__(self, x):
        return self.l1 * torch.sum(torch.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """Applies an L2 penalty: `l2 * sum(square(x))`.

    Also available as the string `"l2"` (with `l2=0.01`).

    Args:
        l2: Non-negative float, the L2 factor.

    Example:

    >>> keras.regularizers.L2(0.5)(torch.tensor([-1.0, 2.0]))
    tensor(2.5000)
    """

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        return self.l2 * torch.sum(torch.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (or columns) of a 2D weight to be orthogonal to each other.

    The penalty is `factor * 0.5 * sum(abs(P - diag(P))) / num_pairs`, where `P` is the matrix of
    dot products between the L2-normalized rows (`mode="rows"`) or columns (`mode="columns"`), and
    `num_pairs = n * (n - 1) / 2`. For a Dense kernel `(input_dim, units)` in Keras layout,
    `"rows"` makes the input-feature vectors orthogonal.

    Args:
        factor: Non-negative float, the regularization factor.
        mode: `"rows"` or `"columns"`.

    Example:

    >>> reg = keras.regularizers.OrthogonalRegularizer(factor=0.01)
    >>> reg(torch.eye(3))
    tensor(0.)
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _as_float32(validate_float_arg(factor, name="factor"))
        if mode not in {"rows", "columns"}:
            raise ValueError(
                'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                f"Received: mode={mode}"
            )
        self.mode = mode

    def __call__(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )
        axis = 1 if self.mode == "rows" else 0
        # x * rsqrt(sum(x^2)), capped at 1/epsilon for zero vectors (Keras's `normalize`).
        inv_norm = torch.rsqrt(torch.sum(torch.square(inputs), dim=axis, keepdim=True))
        unit = inputs * torch.clamp(inv_norm, max=1.0 / epsilon())
        product = unit @ unit.T if self.mode == "rows" else unit.T @ unit  # (n, n)
        size = product.shape[0]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=inputs.dtype, device=inputs.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Lowercase aliases, as exported by Keras (they are the classes themselves).
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS_DICT = {
    "Regularizer": Regularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "regularizer": Regularizer,
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,
    "l1_l2": L1L2,  # not a Keras 3 string (Keras 3 only knows "l1l2"); accepted for convenience
    "orthogonal_regularizer": OrthogonalRegularizer,
}
_BUILTIN_CLASSES = frozenset(ALL_OBJECTS_DICT.values())


def serialize(regularizer):
    """Returns the regularizer's configuration in Keras 3's serialized-object format.

    Args:
        regularizer: A `Regularizer` instance (or `None`).

    Returns:
        A dict `{"module", "class_name", "config", "registered_name"}`.

    Example:

    >>> keras.regularizers.serialize(keras.regularizers.L2(0.1))
    {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.1}, 'registered_name': None}
    """
    if regularizer is None:
        return None
    return serialize_object(regularizer, _MODULE, _BUILTIN_CLASSES, kind="regularizer")


def deserialize(config, custom_objects=None):
    """Returns a regularizer instance from its serialized form.

    Args:
        config: A dict from `serialize()` (or Keras 2's `{"class_name", "config"}`), or a name.
        custom_objects: Optional dict mapping names to custom classes.

    Returns:
        A regularizer instance.

    Example:

    >>> keras.regularizers.deserialize({"class_name": "L2", "config": {"l2": 0.5}})
    L2(l2=0.5)
    """
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, kind="regularizer")


def get(identifier):
    """Retrieves a regularizer from an identifier.

    Args:
        identifier: `None`, a name (`"l1"`, `"l2"`, `"L1L2"`, `"orthogonal_regularizer"`), a
            serialized dict, a class (instantiated with defaults), an instance, or any callable.

    Returns:
        A regularizer (or callable), or `None` when `identifier` is `None`.

    Example:

    >>> keras.regularizers.get("l2").get_config()
    {'l2': 0.01}
    """
    return get_object(identifier, deserialize, ALL_OBJECTS_DICT, "regularizer")
