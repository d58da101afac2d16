"""Tracks torch hooks so execution plans know when layers can be called directly.

A plan calls a layer's `call` directly (skipping `nn.Module.__call__`) only while no hook could
be skipped by doing so. Registering a hook on a layer bumps `version`; torch's global module
hooks are checked on each model call (a few dict lookups).
"""

from torch.nn.modules import module as _torch_module

version = 0

_GLOBAL_HOOK_DICTS = [
    getattr(_torch_module, name)
    for name in (
        "_global_forward_hooks",
        "_global_forward_pre_hooks",
        "_global_backward_hooks",
        "_global_backward_pre_hooks",
    )
    if hasattr(_torch_module, name)
]


def bump():
    """Records that some layer registered a hook: plans re-check their fast path."""
    global version
    version += 1


def current_version():
    """The number of hook registrations (and other plan-invalidating changes) so far."""
    return version


def global_hooks_active():
    """Whether torch's module-wide hooks (`register_module_forward_hook`, ...) are set."""
    for hooks in _GLOBAL_HOOK_DICTS:
        if hooks:
            return True
    return False
