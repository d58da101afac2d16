"""The `Callback` base class: every hook of Keras 3, doing nothing by default.

Logs, as the trainer passes them (and as callbacks may rely on):

- Batch hooks (`on_*_batch_begin/end`) get a dict `name -> 0-d torch tensor` on the training
  device: running means over the epoch so far, never read back to the host by the trainer.
  A callback that needs a Python number per batch (`float(logs["loss"])`) forces one host sync
  per batch; do that only where the callback genuinely needs the value (see `TerminateOnNaN`).
- `on_epoch_end`, `on_test_end` and `on_train_end` get Python floats.

Hooks left as defined here are marked with `_default`, so `CallbackList` can tell which
callbacks need per-batch logs at all (`CallbackList.needs_batch_logs`).
"""

import sys


def _default(method):
    """Marks a hook as not overridden (Keras's `utils.default`)."""
    method._is_default = True
    return method


def _is_default(method):
    return getattr(method, "_is_default", False)


def _print_msg(message, line_break=True):
    """Writes a message to stdout, as Keras's `io_utils.print_msg` (interactive logging) does."""
    message = f"{message}\n" if line_break else str(message)
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace("━", "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(message)
    sys.stdout.flush()


def _is_main_process():
    """True outside `torch.distributed`, and on rank 0 inside it.

    Callbacks that write files or print use it so that a `torchrun` job writes each file once.
    """
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


class Callback:
    """Base class used to build new callbacks.

    Callbacks can be passed to `fit()`, `evaluate()` and `predict()` to hook into the stages of
    training, evaluation and inference. Subclass and override the hooks of interest.

    Attributes:
        params: Dict. Training parameters: `{"verbose": v, "epochs": n, "steps": steps_per_epoch
            or None}`.
        model: The `Model` being trained (a `DistributedDataParallel` wrapper is unwrapped to
            its `.module`).

    Logs given to batch hooks hold 0-d torch tensors on the training device; reading one as a
    Python number (`float(v)`, `.item()`) waits for the device, so do it only when needed.
    Epoch-level hooks get Python floats.

    Example:

    ```python
    class MyCallback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["loss"])

    model.fit(x, y, callbacks=[MyCallback()])
    ```
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        model = getattr(self, "_model", None)  # a subclass may skip `super().__init__()`
        # Callbacks expect the Keras model, not a DDP wrapper around it (as Keras does).
        module = getattr(model, "module", None)
        if module is not None and type(model).__name__ == "DistributedDataParallel":
            return module
        return model

    def _needs_batch_logs(self, mode):
        """Whether this callback reads the logs of `mode`'s batch-end hook (see
        `CallbackList.needs_batch_logs`). By default: whether it overrides that hook."""
        if mode == "train":
            return not (_is_default(self.on_train_batch_end) and _is_default(self.on_batch_end))
        return not _is_default(getattr(self, f"on_{mode}_batch_end"))

    @_default
    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_begin`."""

    @_default
    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_end`."""

    @_default
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (training only).

        Args:
            epoch: Integer, index of the epoch.
            logs: Dict. Currently no data is passed.
        """

    @_default
    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch (training only).

        Args:
            epoch: Integer, index of the epoch.
            logs: Dict of Python floats: the epoch's metric results, and the validation results
                (prefixed `val_`) when validation ran, e.g. `{"loss": 0.2, "accuracy": 0.7}`.
        """

    @_default
    def on_train_batch_begin(self, batch, logs=None):
        """Called at the beginning of a training batch in `fit`.

        Args:
            batch: Integer, index of the batch within the epoch.
            logs: Dict. Currently no data is passed.
        """
        self.on_batch_begin(batch, logs=logs)

    @_default
    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch in `fit`.

        Args:
            batch: Integer, index of the batch within the epoch.
            logs: Dict `name -> 0-d tensor`: metric results averaged over the epoch so far.
        """
        self.on_batch_end(batch, logs=logs)

    @_default
    def on_test_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in `evaluate` (and of a validation batch in `fit`).

        Args:
            batch: Integer, index of the batch.
            logs: Dict. Currently no data is passed.
        """

    @_default
    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch in `evaluate` (and of a validation batch in `fit`).

        Args:
            batch: Integer, index of the batch.
            logs: Dict `name -> 0-d tensor`: metric results averaged so far.
        """

    @_default
    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in `predict`.

        Args:
            batch: Integer, index of the batch.
            logs: Dict. Currently no data is passed.
        """

    @_default
    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch in `predict`.

        Args:
            batch: Integer, index of the batch.
            logs: Dict (the batch's outputs, when the trainer passes them).
        """

    @_default
    def on_train_begin(self, logs=None):
        """Called at the beginning of training.

        Args:
            logs: Dict. Currently no data is passed.
        """

    @_default
    def on_train_end(self, logs=None):
        """Called at the end of training.

        Args:
            logs: Dict of Python floats: the logs of the last `on_epoch_end`.
        """

    @_default
    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation.

        Args:
            logs: Dict. Currently no data is passed.
        """

    @_default
    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation.

        Args:
            logs: Dict of Python floats: the evaluation results.
        """

    @_default
    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction.

        Args:
            logs: Dict. Currently no data is passed.
        """

    @_default
    def on_predict_end(self, logs=None):
        """Called at the end of prediction.

        Args:
            logs: Dict. Currently no data is passed.
        """
