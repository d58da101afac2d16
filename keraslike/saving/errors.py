"""The exceptions the saving code raises: Keras's types, with the file and the problem named."""

from keraslike.serialization.errors import UnknownObjectError, UnsafeDeserializationError  # noqa: F401


class SavedFileError(ValueError):
    """A model or weights file that cannot be read: the message names the file and the problem."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"Cannot load {self.path!r}: {problem}")

    def __str__(self):
        # Without this, a subclass that is also an OSError prints `[Errno None] None: ...`.
        return f"Cannot load {self.path!r}: {self.problem}"


class malformed_config:
    """Context: errors a malformed config provokes while a model is rebuilt name the file.

    A config from a file can hold any value where a layer expects another (a string for a
    dict, a negative size, a missing key); the layer code then fails with whatever Python or
    torch raises. Inside this context those become a `SavedFileError` (a ValueError) naming the
    file, chained to the original error. `ValueError` and `TypeError` pass unchanged.
    """

    _WRAPPED = (AttributeError, KeyError, IndexError, RuntimeError, OverflowError, AssertionError)

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if kind is not None and issubclass(kind, self._WRAPPED):
            problem = f"its model config is malformed ({kind.__name__}: {error})."
            raise SavedFileError(self.path, problem) from error
        return False


class SavedFileNotFoundError(SavedFileError, FileNotFoundError):
    """A path that does not exist (both a `ValueError`, as Keras raises, and a `FileNotFoundError`)."""

    def __init__(self, path, problem=None):
        SavedFileError.__init__(self, path, problem or "no such file or directory.")
        self.filename = str(path)
