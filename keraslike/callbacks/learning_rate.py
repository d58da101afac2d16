"""Callbacks that set the optimizer's learning rate: `ReduceLROnPlateau`, `LearningRateScheduler`.

Both read the rate once per epoch (`float(optimizer.learning_rate)`, one host sync per epoch)
and add it to the epoch logs as `learning_rate`, as Keras does, so `History` records it.
"""

import warnings

import numpy as np

from keraslike.callbacks.callback import Callback, _print_msg
from keraslike.callbacks.monitor_callback import MonitorCallback


def _optimizers(model):
    """`(name, optimizer)` pairs: the inner optimizers of a multi-optimizer, else the one."""
    optimizer = model.optimizer
    inner = getattr(optimizer, "optimizers", None)
    if inner is not None:
        return [(opt.name, opt) for opt in inner]
    return [("", optimizer)]


def _log_learning_rates(model, logs):
    for name, opt in _optimizers(model):
        logs[f"learning_rate_{name}" if name else "learning_rate"] = float(opt.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when a metric has stopped improving.

    Models often benefit from reducing the learning rate by a factor of 2-10 once learning
    stagnates. When no improvement is seen for `patience` epochs, the rate is multiplied by
    `factor` (never below `min_lr`).

    Args:
        monitor: Quantity to monitor (a key of the epoch logs). Defaults to `"val_loss"`.
        factor: Factor by which the rate is reduced: `new_lr = lr * factor`. Must be `< 1`.
        patience: Number of epochs with no improvement after which the rate is reduced.
        verbose: 0 (quiet) or 1 (a message when the rate changes).
        mode: One of `{"auto", "min", "max"}`.
        min_delta: Threshold for measuring a new optimum. Defaults to `1e-4`.
        cooldown: Number of epochs to wait before resuming normal operation after a reduction.
        min_lr: Lower bound on the learning rate.

    Example:

    ```python
    reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.2,
                                                  patience=5, min_lr=0.001)
    model.fit(x, y, callbacks=[reduce_lr])
    ```
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        old_lr = float(optimizer.learning_rate)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                name_str = f" {name}" if name else ""
                _print_msg(
                    f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name_str} learning rate "
                    f"to {new_lr}."
                )
            return True
        return False

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs or {}
        _log_learning_rates(self.model, logs)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                reduced = False
                for name, opt in _optimizers(self.model):
                    reduced = self._reduce_optimizer_lr(opt, epoch, name) or reduced
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    At the beginning of every epoch, calls `schedule(epoch, lr)` with the epoch index (0-based)
    and the current rate (a Python float) and sets the optimizer's rate to the result.

    Args:
        schedule: A function taking the epoch index and the current learning rate, returning a
            new learning rate (a float). A function of the epoch alone is accepted too.
        verbose: 0 (quiet) or 1 (a message each epoch).

    Example:

    ```python
    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * math.exp(-0.1)

    callback = keras.callbacks.LearningRateScheduler(scheduler)
    model.fit(x, y, epochs=15, callbacks=[callback])
    ```
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # the old API: schedule(epoch)
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = float(learning_rate)
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        for name, opt in _optimizers(self.model):
            learning_rate = self._update_optimizer_lr(opt, epoch)
            if self.verbose > 0:
                which = f"{name} learning rate" if name else "learning rate"
                _print_msg(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting {which} to "
                    f"{learning_rate}."
                )

    def on_epoch_end(self, epoch, logs=None):
        _log_learning_rates(self.model, logs or {})
