"""Weight constraints: Keras 3's `keras.constraints`, on torch tensors.

A constraint maps a weight tensor to its projected value; the training loop assigns the result
back after each optimizer step. `axis` arguments refer to the weight in KERAS layout: for a Dense
kernel `(input_dim, units)`, `MaxNorm(axis=0)` bounds the norm of each unit's incoming weight
vector; for a Conv2D kernel `(kh, kw, in, out)`, use `axis=[0, 1, 2]`. A layer that stores a weight
in torch's layout (Dense `weight` is `(units, input_dim)`) calls the constraint on the Keras-layout
view (e.g. `weight.T`) and writes the result back through the same view.
"""

import torch

from keraslike.backend.config import epsilon
from keraslike.serialization.objects import deserialize_object, get_object, serialize_object

_MODULE = "keras.constraints"


def _dims(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    """L2 norms of `w` along `axis`, kept for broadcasting."""
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(axis), keepdim=True))


class Constraint:
    """Base class for weight constraints.

    Subclasses implement `__call__(self, w)` returning the projected weight, and `get_config()`
    when they take arguments.

    Example:

    ```python
    class NonNegative(keras.constraints.Constraint):
        def __call__(self, w):
            return w * (w >= 0).to(w.dtype)
    ```
    """

    def __call__(self, w):
        """Applies the constraint to `w` (in Keras layout) and returns the projected tensor."""
        return w

    def get_config(self):
        """Returns the constraint's configuration as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Instantiates a constraint from the output of `get_config()`."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Constrains the weights incident to each hidden unit to have a norm at most `max_value`.

    Args:
        max_value: The maximum norm of the incoming weights.
        axis: Integer or list of integers, the axes (Keras layout) along which norms are
            computed: `0` for a Dense kernel `(input_dim, units)`, `[0, 1, 2]` for a Conv2D
            kernel `(kh, kw, in, out)`.

    Example:

    >>> w = keras.constraints.MaxNorm(1.0)(torch.tensor([[3.0], [4.0]]))  # norm 5 -> 1
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Constrains the weights to be non-negative: `max(w, 0)`.

    Example:

    >>> keras.constraints.NonNeg()(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __call__(self, w):
        return torch.clamp(w, min=0)


class UnitNorm(Constraint):
    """Constrains the weights incident to each hidden unit to have unit norm.

    Args:
        axis: Integer or list of integers, the axes (Keras layout) along which norms are computed.

    Example:

    >>> keras.constraints.UnitNorm()(torch.tensor([[3.0], [4.0]]))
    tensor([[0.6000],
            [0.8000]])
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Constrains the norm of the weights incident to each hidden unit to `[min_value, max_value]`.

    The projected norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`.

    Args:
        min_value: The minimum norm.
        max_value: The maximum norm.
        rate: How far to move toward the bounds: `1.0` enforces them strictly, smaller values
            move the weights part of the way each step.
        axis: Integer or list of integers, the axes (Keras layout) along which norms are computed.

    Example:

    >>> w = keras.constraints.MinMaxNorm(0.5, 1.0)(torch.tensor([[3.0], [4.0]]))
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        clipped = torch.clamp(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class RadialConstraint(Constraint):
    """Makes each 2D slice of a conv kernel radially symmetric (from tf.keras; not in Keras 3).

    The kernel has Keras layout `(rows, cols, in, out)` with `rows == cols`. Each concentric
    square ring of a slice is set to one value, taken as tf.keras does: the innermost ring (the
    center pixel, or the central 2x2 block for even sizes) from `w[s - 1, s - 1]` with
    `s = size // 2`, ring `j >= 1` from `w[s + j - 1, s + j - 1]` (odd sizes) or
    `w[s + j, s + j]` (even sizes).

    Example:

    >>> w = keras.constraints.RadialConstraint()(torch.randn(3, 3, 2, 4))
    """

    def __call__(self, w):
        if w.ndim != 4:
            raise ValueError(
                "The weight tensor must have rank 4. "
                f"Received weight tensor with shape: {tuple(w.shape)}"
            )
        size = w.shape[0]
        if w.shape[1] != size:
            raise ValueError(
                "RadialConstraint needs square kernels (rows == cols). "
                f"Received shape: {tuple(w.shape)}"
            )
        start = size // 2
        idx = torch.arange(size, device=w.device)
        if size % 2:
            dist = (idx - start).abs()  # ring of each row/column index: 0 at the center
            src = torch.where(dist == 0, start - 1, start + dist - 1)
        else:
            dist = torch.where(idx < start, start - 1 - idx, idx - start)  # 0 on the central 2x2
            src = torch.where(dist == 0, start - 1, start + dist)
        ring = torch.maximum(dist[:, None], dist[None, :])  # (rows, cols): ring of each pixel
        diag_for_ring = torch.zeros(start + 1, dtype=torch.long, device=w.device)
        diag_for_ring[dist] = src  # ring number -> diagonal index its value is copied from
        pick = diag_for_ring[ring]  # (rows, cols)
        return w[pick, pick]  # (rows, cols, in, out)


# Lowercase aliases, as exported by Keras (they are the classes themselves).
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
radial_constraint = RadialConstraint

ALL_OBJECTS_DICT = {
    "Constraint": Constraint,
    "MaxNorm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "NonNeg": NonNeg,
    "UnitNorm": UnitNorm,
    "RadialConstraint": RadialConstraint,
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    "radial_constraint": RadialConstraint,
}
_BUILTIN_CLASSES = frozenset(ALL_OBJECTS_DICT.values())


def serialize(constraint):
    """Returns the constraint's configuration in Keras 3's serialized-object format.

    Args:
        constraint: A `Constraint` instance (or `None`).

    Returns:
        A dict `{"module", "class_name", "config", "registered_name"}`.

    Example:

    >>> keras.constraints.serialize(keras.constraints.MaxNorm())
    {'module': 'keras.constraints', 'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0},
     'registered_name': None}
    """
    if constraint is None:
        return None
    return serialize_object(constraint, _MODULE, _BUILTIN_CLASSES, kind="constraint")


def deserialize(config, custom_objects=None):
    """Returns a constraint instance from its serialized form.

    Args:
        config: A dict from `serialize()` (or Keras 2's `{"class_name", "config"}`), or a name.
        custom_objects: Optional dict mapping names to custom classes.

    Returns:
        A constraint instance.

    Example:

    >>> keras.constraints.deserialize({"class_name": "NonNeg", "config": {}})
    NonNeg()
    """
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects, kind="constraint")


def get(identifier):
    """Retrieves a constraint from an identifier.

    Args:
        identifier: `None`, a name (`"max_norm"`, `"non_neg"`, `"unit_norm"`, `"MinMaxNorm"`), a
            serialized dict, a class (instantiated with defaults), an instance, or any callable.

    Returns:
        A constraint (or callable), or `None` when `identifier` is `None`.

    Example:

    >>> keras.constraints.get("non_neg")
    NonNeg()
    """
    return get_object(identifier, deserialize, ALL_OBJECTS_DICT, "constraint")
