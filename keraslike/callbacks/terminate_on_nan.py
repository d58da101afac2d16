"""`TerminateOnNaN`: stops training when the loss becomes NaN or infinite."""

import math

from keraslike.callbacks.callback import Callback, _print_msg


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN or Inf loss is encountered.

    By default training stops gracefully (`model.stop_training = True`, then the usual
    `on_train_end` of every callback). With `raise_error=True` a `RuntimeError` is raised at
    once, so no other callback's `on_train_end` runs (useful to keep a backup untouched).

    Cost: checking the loss means reading it back from the device after every batch, one host
    sync per training step. It is the only built-in callback that does so, and only when it is
    added.

    Args:
        raise_error: If `False` (default), stop training via `model.stop_training = True`;
            if `True`, raise a `RuntimeError`.

    Example:

    ```python
    model.fit(x, y, callbacks=[keras.callbacks.TerminateOnNaN()])
    ```
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        loss = float(loss)  # the one host sync per batch (see the class docstring)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            _print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
