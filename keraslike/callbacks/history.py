"""`History`: records the epoch logs of `fit` (what `fit` returns)."""

from keraslike.callbacks.callback import Callback


class History(Callback):
    """Callback that records events into a `History` object.

    Added automatically to every `fit()` run, which returns it.

    Attributes:
        history: Dict `name -> list of values`, one value per epoch.
        epoch: List of the epoch indices seen.
        params: The training parameters (`{"verbose": 1, "epochs": 10, "steps": 1}`).

    Example:

    ```python
    history = model.fit(x, y, epochs=10)
    history.history.keys()  # dict_keys(['loss'])
    ```
    """

    def __init__(self):
        super().__init__()
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        # Set on each epoch, so the model always holds the latest state.
        self.model.history = self
