"""`keras.device` and `keras.name_scope`: context managers for placement and naming."""

import contextlib
import threading

import torch

_SCOPES = threading.local()


def _torch_device(device_name):
    if isinstance(device_name, torch.device):
        return device_name
    name = str(device_name).lower()
    kind, _, index = name.partition(":")
    kind = {"gpu": "cuda"}.get(kind, kind)
    return torch.device(f"{kind}:{index}" if index else kind)


@contextlib.contextmanager
def device(device_name):
    """Context manager: tensors and weights created inside are placed on `device_name`.

    Args:
        device_name: `"cpu"`, `"gpu"`, `"gpu:1"`, `"cuda:0"`, `"mps"` or a `torch.device`
            (Keras's `"gpu"` is torch's `"cuda"`).

    Example:

    ```python
    with keras.device("gpu:0"):
        x = keras.ops.ones((2, 3))
    ```
    """
    with torch.device(_torch_device(device_name)):
        yield


class name_scope:  # noqa: N801 - Keras's name
    """Context manager that prefixes the paths of variables created inside it.

    Inside `name_scope("block")`, `current_path()` is `"block"` and a weight `kernel` created
    there has the path `"block/kernel"`; nested scopes join with `/`. Layers open a scope named
    after themselves while they build and are called, so a sublayer's weights read
    `"block/dense/kernel"`, as in Keras.

    Args:
        name: The scope's name (no `/`).
        caller: Optional object opening the scope (a layer). With `deduplicate`, a scope opened
            by the same caller with the same name directly inside its own adds nothing, and a
            caller that records `_parent_path` always re-enters under that parent.
        deduplicate: See `caller`. Defaults to `True`.
        override_parent: Optional absolute path replacing the enclosing scopes' path.

    Example:

    ```python
    with keras.name_scope("block"):
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    layer.kernel.path  # "block/dense/kernel"
    ```
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        if override_parent is None and deduplicate:
            override_parent = getattr(caller, "_parent_path", None)
        self.override_parent = override_parent
        self._pushed = False

    def __enter__(self):
        stack = getattr(_SCOPES, "stack", None)
        if stack is None:
            stack = _SCOPES.stack = []
        if self.deduplicate and stack and self.caller is not None:
            top = stack[-1]
            if top.caller is self.caller and top.name == self.name:
                return self
        stack.append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc):
        if self._pushed:
            self._pushed = False
            _SCOPES.stack.pop()

    @staticmethod
    def current_path():
        """The `/`-joined names of the active scopes (`""` outside any scope)."""
        return current_path()


def current_path():
    """The path of the active name scopes: `/`-joined names, an `override_parent` restarting it."""
    parts = []
    for scope in getattr(_SCOPES, "stack", None) or ():
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)
