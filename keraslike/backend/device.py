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
    """Context manager that prefixes names: inside `name_scope("block")`, `current_path()` is
    `"block"`, nested scopes join with `/`.

    Args:
        name: The scope's name.
        **kwargs: Accepted for Keras compatibility (`caller`, `deduplicate`, `override_parent`).
    """

    def __init__(self, name, **kwargs):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        self.name = name
        self.override_parent = kwargs.get("override_parent")

    def __enter__(self):
        stack = getattr(_SCOPES, "stack", None)
        if stack is None:
            stack = _SCOPES.stack = []
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _SCOPES.stack.pop()

    @staticmethod
    def current_path():
        """The `/`-joined names of the active scopes (`""` outside any scope)."""
        return "/".join(scope.name for scope in getattr(_SCOPES, "stack", None) or [])
