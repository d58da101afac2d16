"""Process-wide switches of `keras.config`: interactive logging, epoch/step caps, flash attention.

Each getter returns what its setter stored; the code that acts on a switch reads it at the time it
acts (the progress bar when it writes, `fit` when it starts, attention when it runs).
"""

_STATE = {
    "interactive_logging": True,
    "max_epochs": None,
    "max_steps_per_epoch": None,
    "flash_attention": None,
}


def enable_interactive_logging():
    """Turns interactive logging on: progress bars and messages go to `sys.stdout` (the default)."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging():
    """Turns interactive logging off: progress messages go to Python's `logging` (logger `keras`)."""
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled():
    """Returns whether progress messages are written to `sys.stdout` (`True`) or logged."""
    return _STATE["interactive_logging"]


def max_epochs():
    """The cap on the number of epochs `fit` runs (`None`: no cap)."""
    return _STATE["max_epochs"]


def set_max_epochs(max_epochs):
    """Caps the number of epochs of every `fit` call (a debugging aid; `None` removes the cap).

    Args:
        max_epochs: Positive integer or `None`.
    """
    _STATE["max_epochs"] = max_epochs


def max_steps_per_epoch():
    """The cap on the number of steps per epoch of `fit` (`None`: no cap)."""
    return _STATE["max_steps_per_epoch"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Caps the number of steps per epoch of every `fit` call (`None` removes the cap).

    Args:
        max_steps_per_epoch: Positive integer or `None`.
    """
    _STATE["max_steps_per_epoch"] = max_steps_per_epoch


def enable_flash_attention():
    """Asks attention ops to use torch's flash-attention kernel (`F.scaled_dot_product_attention`
    restricted to `SDPBackend.FLASH_ATTENTION`, which needs a GPU and float16/bfloat16 inputs)."""
    _STATE["flash_attention"] = True


def disable_flash_attention():
    """Keeps attention ops off the flash-attention kernel (torch picks among the others)."""
    _STATE["flash_attention"] = False


def is_flash_attention_enabled():
    """`True` / `False` after `enable_` / `disable_flash_attention`; `None` (automatic) before."""
    return _STATE["flash_attention"]
