"""The call context: what an outer call tells the layers called inside it (Keras's `CallContext`).

One process-wide `state` holds, while a model or layer call runs:

- `training`: the `training` value of the innermost enclosing call that resolved one (an explicit
  argument, else the enclosing context, else a non-`None` default of the layer's `call`), or
  `None` when nobody gave one. A layer whose `call` takes `training` and is called without it
  receives this value; its sublayers (also those a custom layer calls eagerly, `self.sub(x)`)
  therefore see the value the model was called with.
- `losses`: the list collecting the losses added (`add_loss`, activity regularizers) during the
  current outermost call, or `None` outside any call. The outermost call (a model's plan run or an
  eager layer call) opens a fresh list; nested calls add to it. A layer's `losses` are those of
  the most recent forward (Keras clears them when a new outermost call starts).
- `losses_added`: whether any loss was ever added in this process. Until then no layer holds a
  loss, so calls skip recording which list their losses went to (under `torch.compile` each
  such write is replayed after every compiled call).

Reading and setting these attributes costs a few attribute accesses: no host sync, and under
`torch.compile` the values are constants in steady state (no recompiles, no graph breaks).
Values are restored when the call returns, so an explicit `training=` on an inner call holds for
that call and its sublayers only.
"""

import torch

# What a model or layer records as its most recent forward's losses after an outermost forward
# that added none (see `record_losses`).
NO_LOSSES = ()


class CallContext:
    """The state shared by nested calls (see the module docstring)."""

    __slots__ = ("training", "losses", "losses_added")

    def __init__(self):
        self.training = None
        self.losses = None
        self.losses_added = False


state = CallContext()


def current_training():
    """The `training` value of the enclosing calls, or `None` when nobody gave one."""
    return state.training


def in_call():
    """Whether a model or layer call is running (an outermost call has opened the context)."""
    return state.losses is not None


def record_losses(context, collected, record, key):
    """Records, as `record[key]`, the losses list of an outermost call that opened `collected`.

    `record` is the `__dict__` of the plan or layer that made the call, `context` the call
    context (`state`, passed in: under `torch.compile` one object reached through two modules
    costs an identity guard per call). Recorded: the list when a loss was added, else
    `NO_LOSSES`; nothing while no loss was ever added (no layer holds one to be told apart), and
    eagerly nothing over `NO_LOSSES` already there. Under `torch.compile` each attribute write
    is replayed after every compiled call, so the common loss-free program writes nothing, and
    the old value is not read there (a guard on it would recompile after each eager call).
    """
    if collected:
        record[key] = collected
    elif context.losses_added and (torch.compiler.is_compiling() or record.get(key) is not NO_LOSSES):
        record[key] = NO_LOSSES
