"""The exceptions deserialization raises (re-exported by `keraslike.saving`)."""


class UnknownObjectError(TypeError, ValueError):
    """A config names a class or function that is neither built in nor registered.

    A `TypeError` (Keras's type for a missing custom class, as DESIGN.md asks) that is also a
    `ValueError`, like the other problems with a saved file.
    """


class UnsafeDeserializationError(ValueError):
    """A config holds Python code (a `Lambda`'s function) and `safe_mode` is on."""
