"""Keras activations as torch expressions, for ejected source."""

from keraslike import activations
from keraslike.export.torch_source.errors import Untranslatable

# `{x}` is replaced by the argument's expression. Each is what keraslike computes for that name.
_EXPRESSIONS = {
    "linear": "{x}",
    "relu": "F.relu({x})",
    "relu6": "F.relu6({x})",
    "sigmoid": "torch.sigmoid({x})",
    "tanh": "torch.tanh({x})",
    "softmax": "F.softmax({x}, dim=-1)",
    "log_softmax": "F.log_softmax({x}, dim=-1)",
    "elu": "F.elu({x})",
    "selu": "F.selu({x})",
    "softplus": "F.softplus({x})",
    "softsign": "F.softsign({x})",
    "silu": "F.silu({x})",
    "swish": "F.silu({x})",
    "gelu": "F.gelu({x})",
    "leaky_relu": "F.leaky_relu({x}, 0.2)",
    "hard_sigmoid": "F.hardsigmoid({x})",
    "hard_silu": "F.hardswish({x})",
    "hard_swish": "F.hardswish({x})",
    "mish": "F.mish({x})",
    "exponential": "torch.exp({x})",
}


def activation_expression(activation, x, owner):
    """`activation` applied to the expression `x`, as torch source.

    Raises:
        Untranslatable: For a custom activation function, naming the layer that uses it.
    """
    if activation is None:
        return x
    try:
        name = activations.serialize(activation)
    except ValueError:  # a lambda or an unregistered function
        name = getattr(activation, "__name__", repr(activation))
    if isinstance(name, str) and name in _EXPRESSIONS:
        return _EXPRESSIONS[name].format(x=x)
    raise Untranslatable(
        f'Layer "{owner.name}" ({type(owner).__name__}) uses the activation {name!r}, which '
        "to_torch_source cannot translate to torch source."
    )
