"""`torch.compiler.disable` for keraslike's own methods, without importing torch._dynamo early.

`torch.compiler.disable` imports `torch._dynamo`, which takes longer than the rest of
`import keraslike` together (1-4 s here). The training machinery marks the few methods that
must run outside compiled graphs (metric bookkeeping that reads Python numbers) with
`disable_when_compiled`; they stay plain methods until compilation can start, and `install()`
then replaces each with its `torch.compiler.disable` wrapper, once.

What triggers `install()`: keraslike calling `torch.compile` (`jit_compile=True` in `compile`),
and composing any step function (`make_train_function` and friends) once `torch._dynamo` is
already imported, e.g. because the user called `torch.compile` on something before `fit`.
Until then no graph can be traced, so the unwrapped methods behave the same.
"""

import sys

import torch

_PENDING = []


def disable_when_compiled(owner, *names):
    """Marks the methods `names` of class `owner` to run outside `torch.compile`d graphs.

    Call it right after the class statement. When `torch._dynamo` is already imported the
    methods are wrapped at once; otherwise `install()` wraps them later.

    Args:
        owner: The class that defines the methods.
        *names: The method names.

    Returns:
        `owner`.
    """
    _PENDING.extend((owner, name) for name in names)
    if "torch._dynamo" in sys.modules:
        install()
    return owner


def install():
    """Wraps every marked method with `torch.compiler.disable` (imports `torch._dynamo`)."""
    while _PENDING:
        owner, name = _PENDING.pop()
        method = owner.__dict__[name]
        if not getattr(method, "_torchdynamo_disable", False):
            setattr(owner, name, torch.compiler.disable(method))


def install_if_loaded():
    """`install()` when `torch._dynamo` is imported already (costs nothing otherwise)."""
    if _PENDING and "torch._dynamo" in sys.modules:
        install()
