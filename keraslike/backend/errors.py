"""Exception classes that are two builtin types at once.

Where Keras 3 lets a bad argument fail inside Python (`Dropout("half")` compares a string with
0 and raises TypeError; `LayerNormalization(axis=5)` indexes a shape and raises IndexError),
keraslike checks the argument first and says what is wrong, naming the layer and the value. The
exception is an instance of Keras's type, so an `except TypeError:` written for Keras still
catches it, and of ValueError, keraslike's type for every other invalid argument (numpy's
`AxisError` is a ValueError and an IndexError in the same way).
"""


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string where a number is expected)."""


class AxisOutOfRangeError(ValueError, IndexError):
    """An axis argument outside the input's dimensions."""


class DeserializationError(TypeError, ValueError):
    """A config a class's constructor refuses (`Dense.from_config({"units": -1})`): Keras's
    TypeError ("Error when deserializing class ..."), and the ValueError the constructor raised."""


class ArgumentAttributeError(TypeError, AttributeError):
    """An argument of the wrong type where Keras fails reading an attribute of it
    (`fit(callbacks="early_stopping")`: "'str' object has no attribute 'set_model'")."""


class MissingDataError(ValueError, KeyError):
    """No data where a call needs some (`predict(None)`; Keras fails popping from an empty
    set, a KeyError)."""

    def __str__(self):  # KeyError's own quotes its message
        return str(self.args[0]) if self.args else ""


class EmptyModelError(TypeError, IndexError):
    """`Sequential.pop()` on a model without layers: Keras 3's IndexError (popping an empty
    list), and the TypeError of Keras 2 that keraslike raised."""
