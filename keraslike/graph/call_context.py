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

Reading and setting these attributes costs a few attribute accesses: no host sync, and under
`torch.compile` the values are constants in steady state (no recompiles, no graph breaks).
Values are restored when the call returns, so an explicit `training=` on an inner call holds for
that call and its sublayers only.
"""


class CallContext:
    """The state shared by nested calls (see the module docstring)."""

    __slots__ = ("training", "losses")

    def __init__(self):
        self.training = None
        self.losses = None


state = CallContext()


def current_training():
    """The `training` value of the enclosing calls, or `None` when nobody gave one."""
    return state.training


def in_call():
    """Whether a model or layer call is running (an outermost call has opened the context)."""
    return state.losses is not None
