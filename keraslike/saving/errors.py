"""The exceptions the saving code raises: Keras's types, with the file and the problem named."""

import warnings

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


class NotAnHDF5FileError(SavedFileError, OSError):
    """A file that should be HDF5 (`.h5`, `.weights.h5`) and is not: an OSError, as h5py's error
    under Keras, and a `SavedFileError` (a ValueError) naming the file."""

    def __init__(self, path, problem):
        SavedFileError.__init__(self, path, problem)
        self.filename = str(path)


class MissingMemberError(SavedFileError, KeyError):
    """A `.keras` archive without a member it needs: the KeyError `zipfile` raises under Keras
    ("There is no item named 'config.json' in the archive"), and a `SavedFileError`."""


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


class LoadFailures:
    """The objects whose own loading code (`load_own_variables`, `load_assets`) raised.

    As Keras's `saving_lib`: every object is tried, the failures are collected, and one
    `ValueError` lists them at the end (a warning instead with `skip_mismatch=True` in
    `load_weights`). The message keeps Keras's shape ("A total of N objects could not be loaded.
    Example error message for object <Dense name=d, built=True>: ...") and adds, for each
    object, the method that failed and the original error with its type.
    """

    def __init__(self, path):
        self.path = str(path)
        self.failures = []  # (object, method name, exception)

    def add(self, obj, method, error):
        self.failures.append((obj, method, error))

    def __bool__(self):
        return bool(self.failures)

    def finish(self, warn_only=False):
        """Raises the `ValueError` listing the failures (or warns, with `warn_only`); no-op
        without failures."""
        if not self.failures:
            return
        first, _, first_error = self.failures[0]
        objects = [_object_repr(obj) for obj, _, _ in self.failures]
        details = "\n".join(
            f"- `{method}` of {_object_label(obj)}: {type(error).__name__}: {error}"
            for obj, method, error in self.failures
        )
        message = (
            f"A total of {len(self.failures)} objects could not be loaded from {self.path!r}. "
            f"Example error message for object {_object_repr(first)}:\n\n{first_error}\n\n"
            f"List of objects that could not be loaded:\n[{', '.join(objects)}]\n\n"
            f"Errors:\n{details}"
        )
        if warn_only:
            warnings.warn(message, stacklevel=4)
            return
        raise ValueError(message) from first_error


def _object_repr(obj):
    # Keras's `<Dense name=dense, built=True>`.
    name = getattr(obj, "name", None)
    if name is None:
        return f"<{type(obj).__name__}>"
    return f"<{type(obj).__name__} name={name}, built={getattr(obj, 'built', False)}>"


def _object_label(obj):
    name = getattr(obj, "name", None)
    return f"{type(obj).__name__} {name!r}" if name is not None else type(obj).__name__
