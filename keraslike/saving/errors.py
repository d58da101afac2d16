"""The exceptions the saving code raises: Keras's types, with the file and the problem named."""

from keraslike.serialization.errors import UnknownObjectError, UnsafeDeserializationError  # noqa: F401


class SavedFileError(ValueError):
    """A model or weights file that cannot be read: the message names the file and the problem."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"Cannot load {self.path!r}: {problem}")


class SavedFileNotFoundError(SavedFileError, FileNotFoundError):
    """A path that does not exist (both a `ValueError`, as Keras raises, and a `FileNotFoundError`)."""

    def __init__(self, path, problem=None):
        SavedFileError.__init__(self, path, problem or "no such file or directory.")
        self.filename = str(path)
