"""Keras-style traceback filtering: errors raised through keraslike show the user's frames.

With filtering on (the default, as in Keras), an exception that leaves a public entry point
(`Layer.__call__`, model construction, `fit` / `evaluate` / `predict`, saving and loading) keeps
its type and message but loses the frames inside keraslike (and torch's `nn.Module` call
plumbing between them): what remains is the user's code, down to the user's own `call` if that
is where it failed. `keras.config.disable_traceback_filtering()` gives the complete trace.

Filtering costs nothing until an exception is raised: entry points wrap their body in `try`
(free in Python 3.11+) or use `@filter_traceback`.
"""

import functools
import os
import types

_ENABLED = [True]
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_TORCH_MODULE_FILE = os.path.join("torch", "nn", "modules", "module.py")


def enable_traceback_filtering():
    """Turns on traceback filtering (the default): keraslike's internal frames are hidden.

    Example:

    >>> keras.config.enable_traceback_filtering()
    >>> keras.config.is_traceback_filtering_enabled()
    True
    """
    _ENABLED[0] = True


def disable_traceback_filtering():
    """Turns off traceback filtering: errors show every frame, keraslike's included.

    Example:

    >>> keras.config.disable_traceback_filtering()
    >>> keras.config.is_traceback_filtering_enabled()
    False
    """
    _ENABLED[0] = False


def is_traceback_filtering_enabled():
    """Returns whether tracebacks through keraslike are filtered (`True` by default)."""
    return _ENABLED[0]


def _hidden(frame):
    filename = frame.f_code.co_filename
    return filename.startswith(_PACKAGE_DIR) or filename.endswith(_TORCH_MODULE_FILE)


def _filtered(tb):
    """The traceback `tb` without hidden frames (`None` when every frame is hidden)."""
    kept = []
    while tb is not None:
        if not _hidden(tb.tb_frame):
            kept.append(tb)
        tb = tb.tb_next
    if not kept:
        return None
    new = None
    for entry in reversed(kept):
        new = types.TracebackType(new, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return new


def filtered(error):
    """Returns `error` with its traceback filtered (when filtering is on); raise the result.

    For an entry point whose body may not add a call frame (`Layer.__call__`):

    ```python
    try:
        ...
    except Exception as error:
        if traceback_utils.is_traceback_filtering_enabled():
            raise traceback_utils.filtered(error)
        raise
    ```
    """
    seen = set()
    link = error
    while link is not None and id(link) not in seen:  # the causes are printed too: filter them
        seen.add(id(link))
        link.__traceback__ = _filtered(link.__traceback__)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return error


def filter_traceback(fn):
    """Decorator for a public entry point: errors leave it with keraslike's frames removed."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _ENABLED[0]:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            raise filtered(error)  # noqa: B904  (same exception, shorter traceback)

    wrapper._keraslike_filters_traceback = True
    return wrapper

