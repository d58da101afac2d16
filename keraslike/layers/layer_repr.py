"""What `print(layer)` shows: the layer's defining arguments and its weights' shapes.

Torch users read `Linear(in_features=784, out_features=64, bias=True)`; a keraslike layer prints
the same kind of line in Keras's terms, e.g.
`Dense(name='dense', units=64, activation='relu', kernel=(784, 64), bias=(64,))`: the arguments
that define a layer of its family (whichever of `REPR_ATTRIBUTES` it has), then, once built, the
Keras-layout shape of each of its own weights. One rule for every family, so a new layer needs no
code for it; a layer may still override `extra_repr`.
"""

from keraslike import activations

# The arguments that define a layer, in the order they are shown (a layer shows those it has).
REPR_ATTRIBUTES = (
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "groups",
    "depth_multiplier",
    "pool_size",
    "size",
    "input_dim",
    "output_dim",
    "num_heads",
    "key_dim",
    "equation",
    "target_shape",
    "dims",
    "n",
    "axis",
    "rate",
    "epsilon",
    "momentum",
    "return_sequences",
    "return_state",
    "activation",
)

# Shown only when they differ from the common default.
_DEFAULTS = {"return_sequences": False, "return_state": False, "groups": 1, "depth_multiplier": 1}


def _value(layer, name):
    value = layer.__dict__.get(name, None)
    if name == "activation":
        if value is None:
            return None
        try:
            value = activations.serialize(value)
        except ValueError:  # an unregistered function or a lambda
            value = getattr(value, "__name__", type(value).__name__)
        return None if value == "linear" else value
    if isinstance(value, (bool, int, float, str)) or (
        isinstance(value, (tuple, list)) and all(isinstance(v, (int, type(None))) for v in value)
    ):
        if name in _DEFAULTS and value == _DEFAULTS[name]:
            return None
        return tuple(value) if isinstance(value, list) else value
    return None


def layer_extra_repr(layer):
    """The text inside `Dense(...)` when a layer is printed."""
    parts = [f"name={layer.name!r}"]
    for name in REPR_ATTRIBUTES:
        value = _value(layer, name)
        if value is not None:
            parts.append(f"{name}={value!r}")
    for spec in getattr(layer, "_weight_specs", ()):
        tensor = layer._find_tensor(spec.attr)
        if tensor is not None:
            parts.append(f"{spec.name}={tuple(spec.layout.keras_shape(tuple(tensor.shape)))}")
    return ", ".join(parts)
