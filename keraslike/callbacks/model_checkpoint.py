"""`ModelCheckpoint`: saves the model (or its weights) during training."""

import os
import re
import warnings

from keraslike.callbacks.callback import _is_main_process, _print_msg
from keraslike.callbacks.monitor_callback import MonitorCallback
from keraslike.distribution.sharding import is_sharded

_MODEL_EXTENSIONS = (".keras", ".h5", ".safetensors")
_WEIGHTS_EXTENSIONS = (".weights.h5", ".weights.safetensors")


class ModelCheckpoint(MonitorCallback):
    """Callback to save the model or its weights at some frequency.

    `filepath` may hold named formatting options, filled with the epoch number (1-based) and
    the epoch logs: `"model.{epoch:02d}-{val_loss:.2f}.keras"` gives `model.03-0.41.keras`.
    With an integer `save_freq`, `{batch}` (1-based) is available too. Missing directories
    are created. Under `torch.distributed`, only rank 0 saves.

    Args:
        filepath: Path of the file to save. A whole model goes to a `.keras` or
            `.safetensors` file (`model.save`); with `save_weights_only=True`, weights go to a
            `.weights.h5` or `.weights.safetensors` file (`model.save_weights`).
        monitor: The metric name to monitor (a key of the logs). Defaults to `"val_loss"`.
        verbose: 0 (silent) or 1 (a message when the callback acts).
        save_best_only: If `True`, save only when the monitored quantity improved; without
            placeholders in `filepath`, the latest best model is kept under one name.
        save_weights_only: If `True`, only the weights are saved.
        mode: One of `{"auto", "min", "max"}`, the direction of improvement.
        save_freq: `"epoch"` to save after each epoch, or an integer `N` to save every `N`
            batches. Saving on a batch reads that batch's logs (tensors) back to the host:
            one sync per save, none between saves.
        initial_value_threshold: Initial "best" value of the monitored metric (only with
            `save_best_only=True`).

    Example:

    ```python
    checkpoint = keras.callbacks.ModelCheckpoint(
        "ckpt/best.keras", monitor="val_accuracy", mode="max", save_best_only=True)
    model.fit(x, y, epochs=10, validation_split=0.2, callbacks=[checkpoint])
    ```
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if self.save_freq != "epoch" and not isinstance(self.save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq: {self.save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(_WEIGHTS_EXTENSIONS):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format) or "
                    f"`.weights.safetensors`. Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith(_MODEL_EXTENSIONS):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format), `.h5` (legacy "
                f"HDF5) or `.safetensors`. Received: filepath={self.filepath}"
            )

    def _needs_batch_logs(self, mode):
        return mode == "train" and self.save_freq != "epoch"

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            # Read the batch's tensors once, for the file name and the monitored value.
            logs = {k: _to_number(v) for k, v in (logs or {}).items()}
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add_batches = batch + 1  # a new epoch; batches are zero-indexed
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, batch, logs, filepath):
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0:
                _print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available.", stacklevel=2
            )
            return True
        if getattr(current, "ndim", 0) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. Falling back to `save_best_only=False`."
            )
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                _print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            _print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        # A model sharded by ModelParallel (FSDP2) saves on every process (the save gathers
        # the full weights, a collective); rank 0 writes the file.
        if not _is_main_process() and not is_sharded(self.model):
            return
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0 and _is_main_process():
            _print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        logs = logs or {}
        try:
            # A mismatch between the placeholders and the logged names fails here.
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from None

    def _checkpoint_exists(self, filepath):
        return os.path.exists(filepath)

    def _get_most_recently_modified_file_matching_pattern(self, pattern):
        """The most recently modified file matching `pattern` (placeholders match anything).

        Ties on modification time go to the largest path. Returns `None` when nothing matches.
        """
        dir_name = os.path.dirname(pattern)
        base_name_regex = f"^{re.sub(r'{.*}', r'.*', os.path.basename(pattern))}$"
        latest_mod_time, latest_path, n_latest, largest_path = 0, None, 0, None
        if os.path.exists(dir_name):
            for file_name in os.listdir(dir_name):
                if not re.match(base_name_regex, file_name):
                    continue
                file_path = os.path.join(dir_name, file_name)
                mod_time = os.path.getmtime(file_path)
                if largest_path is None or file_path > largest_path:
                    largest_path = file_path
                if mod_time > latest_mod_time:
                    latest_mod_time, latest_path, n_latest = mod_time, file_path, 1
                elif mod_time == latest_mod_time:
                    n_latest += 1
        return latest_path if n_latest == 1 else largest_path


def _to_number(value):
    """A 0-d tensor as a Python float (one host sync); anything else unchanged."""
    if hasattr(value, "detach") and getattr(value, "ndim", None) == 0:
        return float(value)
    return value
