"""`EarlyStopping`: stops training when a monitored metric has stopped improving."""

import warnings

import torch

from keraslike.callbacks.callback import _print_msg
from keraslike.callbacks.monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored metric has stopped improving.

    At the end of every epoch, `fit` checks whether the monitored quantity improved (by more
    than `min_delta`); after `patience` epochs without improvement it sets
    `model.stop_training = True` and training ends after that epoch.

    Args:
        monitor: Quantity to monitor (a key of the epoch logs). Defaults to `"val_loss"`.
        min_delta: Minimum change in the monitored quantity to qualify as an improvement.
            Defaults to `0`.
        patience: Number of epochs with no improvement after which training stops.
            Defaults to `0`.
        verbose: 0 (silent) or 1 (prints a message when the callback acts). Defaults to `0`.
        mode: One of `{"auto", "min", "max"}`. Defaults to `"auto"` (direction inferred from
            the name).
        baseline: Baseline value; training stops if the model does not improve on it within
            `patience` epochs. Defaults to `None`.
        restore_best_weights: Whether to restore the model's weights (its whole `state_dict`,
            buffers included) from the epoch with the best monitored value at the end of
            training. The best state is kept as clones on the weights' own device, so keeping
            it costs device memory but no transfer. Defaults to `False`.
        start_from_epoch: Number of warm-up epochs before improvement is monitored.
            Defaults to `0`.

    Example:

    ```python
    callback = keras.callbacks.EarlyStopping(monitor="loss", patience=3)
    history = model.fit(x, y, epochs=10, callbacks=[callback], verbose=0)
    len(history.history["loss"])  # only 4 epochs are run if the loss never improves
    ```
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        # Allow instances to be re-used across `fit()` calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            # Delayed until here, when the model's metrics are all built.
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first monitored epoch is the best one so far.
            self.best_weights = self._snapshot_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot_weights()
            # Restart the wait only when beating both the baseline and the previous best.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)

    def _snapshot_weights(self):
        """Clones of the whole `state_dict`, on their own devices (no host transfer)."""
        with torch.no_grad():
            return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def get_monitor_value(self, logs):
        logs = logs or {}
        monitor_value = logs.get(self.monitor)
        if monitor_value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
        return monitor_value
