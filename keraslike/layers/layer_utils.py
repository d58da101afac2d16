"""Helpers every layer file shares: argument checks, layer-named errors, config serialization.

Errors name the layer (class and name), the argument and the value received, with Keras's
exception type (`ValueError`).
"""

import torch

from keraslike import activations
from keraslike.activations import rectifiers, squashing
from keraslike.backend import config as backend_config


def serialize_or_none(module, value):
    """`module.serialize(value)` (an initializer, regularizer, ...), or `None` for `None`."""
    return module.serialize(value) if value is not None else None


def layer_error(layer, message):
    """A ValueError whose message starts by naming the layer (class and name)."""
    return ValueError(f'{type(layer).__name__} layer "{layer.name}": {message}')


def is_int(value):
    """Whether `value` is a Python int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def standardize_tuple(layer, value, n, name, allow_zero=False):
    """Returns `value` as a tuple of `n` ints (an int is repeated), checked to be > 0 (or >= 0).

    Raises:
        ValueError: naming the layer, the argument and the value, when it is not `n` integers
            or holds a non-positive (negative, with `allow_zero`) entry.
    """
    if is_int(value):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is None or len(values) != n or not all(is_int(v) for v in values):
            raise layer_error(
                layer,
                f"the `{name}` argument must be an integer or a tuple of {n} integers. "
                f"Received: {name}={value!r}",
            )
    bad = [v for v in values if (v < 0 if allow_zero else v <= 0)]
    if bad:
        bound = ">= 0" if allow_zero else "> 0"
        raise layer_error(
            layer,
            f"every value of the `{name}` argument must be {bound}. Received: {name}={value!r}",
        )
    return values


def standardize_padding(layer, value, allow_causal=False):
    """Returns `padding` lower-cased, checked to be "valid", "same" (or "causal")."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise layer_error(
            layer,
            f"the `padding` argument must be one of {allowed}. Received: padding={value!r}",
        )
    return padding


def standardize_data_format(layer, value):
    """Returns `data_format` checked (the global default for `None`), naming the layer if bad."""
    try:
        return backend_config.standardize_data_format(value)
    except ValueError as error:
        raise layer_error(layer, str(error)) from None


class WeightProbe:
    """Tells the device of a module tree's weights by reading one of them per call.

    Finds the tree's first parameter or buffer once and remembers where it is (its owner module,
    which dict, its name), so a read costs two dict lookups, not a walk. `.to()` moves weights
    in place and a weight replaced under the same name is read anew; when the entry is gone the
    probe looks again.
    """

    __slots__ = ("where",)

    def __init__(self):
        self.where = None

    def device(self, root):
        """The device of a weight of `root`'s tree, or `None` when the tree holds no weight."""
        where = self.where
        if where is not None:
            tensor = getattr(where[0], where[1]).get(where[2])
            if tensor is not None:
                return tensor.device
        self.where = where = _first_weight(root)
        if where is None:
            return None
        return getattr(where[0], where[1])[where[2]].device


def spatial_axes(data_format, rank):
    """The axes of the `rank` spatial dimensions of a batched tensor in `data_format`."""
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def _first_weight(root):
    for module in root.modules():
        for kind in ("_parameters", "_buffers"):
            for name, tensor in getattr(module, kind).items():
                if tensor is not None:
                    return module, kind, name
    return None


# Activations computed element by element (every one of `rectifiers` and `squashing`, and the
# torch functions `activations.runtime_form` returns for some): they give the same values on any
# layout of the same tensor. `normalizing` (softmax, glu, ...) works along an axis: not listed.
_ELEMENTWISE = {
    id(fn)
    for module in (rectifiers, squashing)
    for fn in vars(module).values()
    if callable(fn) and getattr(fn, "__module__", None) == module.__name__
} | {id(torch.relu), id(torch.tanh), id(torch.sigmoid), id(activations.linear)}


def is_elementwise_activation(fn):
    """Whether the activation `fn` (or `None`: no activation) is computed element by element."""
    return fn is None or id(fn) in _ELEMENTWISE
