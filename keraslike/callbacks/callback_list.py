"""`CallbackList`: dispatches every hook to a list of callbacks, in order."""

from keraslike.callbacks.callback import Callback
from keraslike.callbacks.history import History
from keraslike.callbacks.progbar_logger import ProgbarLogger


def _flatten_sorted(logs):
    """Keras's log order: nested dicts flattened, keys sorted (`accuracy` before `loss`)."""
    if not logs:
        return {}
    flat = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            flat.update(_flatten_sorted(value))
        else:
            flat[key] = value
    return flat


def _pythonify(logs):
    """Sorted, flattened logs with scalar values as Python floats (Keras's `pythonify_logs`).

    Used for the begin/end hooks of epochs and runs only: one host sync per value, per epoch.
    """
    flat = _flatten_sorted(logs)
    for key, value in flat.items():
        try:
            flat[key] = float(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    return flat


class CallbackList(Callback):
    """Container abstracting a list of callbacks: each hook call reaches every callback, in order.

    Logs are passed on as Keras does, flattened and with sorted keys, as one new dict shared by
    all callbacks of the call (so a key one callback adds, such as `learning_rate`, is seen by
    the ones after it). Batch hooks pass values through untouched (device tensors: no host
    sync); epoch-level hooks convert scalar values to Python floats.

    Args:
        callbacks: List of `Callback` instances.
        add_history: Whether to append a `History` callback when the list has none.
        add_progbar: Whether to append a `ProgbarLogger` callback when the list has none.
            `History` comes before `ProgbarLogger`, both after the user's callbacks (Keras's
            order).
        model: The `Model` these callbacks are used with (`model.history` is set to the
            `History` callback).
        **params: If given, passed to each callback through `set_params` (`verbose`, `epochs`,
            `steps`).

    Example:

    ```python
    callbacks = keras.callbacks.CallbackList([...], add_history=True, model=model,
                                             verbose=1, epochs=3, steps=100)
    callbacks.on_train_begin()
    for epoch in range(3):
        callbacks.on_epoch_begin(epoch)
        for step, batch in enumerate(data):
            callbacks.on_train_batch_begin(step)
            logs = train_step(batch)
            callbacks.on_train_batch_end(step, logs)
        callbacks.on_epoch_end(epoch, epoch_logs)
    callbacks.on_train_end(epoch_logs)
    ```
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten_callbacks(callbacks)
        self._in_begin_end_block_count = 0
        self._add_default_callbacks(add_history, add_progbar)
        self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        self._progbar = None
        self._history = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def append(self, callback):
        """Adds a callback at the end of the list."""
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def needs_batch_logs(self, mode="train"):
        """Whether any callback reads the logs of `mode`'s batch-end hook.

        A trainer may skip computing per-batch logs (metric results) when no callback reads
        them; it still calls the batch hooks (with `logs=None`), so progress is counted.

        Args:
            mode: `"train"`, `"test"` or `"predict"`.
        """
        return any(cb._needs_batch_logs(mode) for cb in self.callbacks)

    def _on_begin(self):
        self._in_begin_end_block_count += 1

    def _on_end(self):
        self._in_begin_end_block_count -= 1
        if self._in_begin_end_block_count < 0:
            self._in_begin_end_block_count = 0
            raise ValueError("`on_xxx_end` called without corresponding `on_xxx_begin`")

    # Batch hooks: no conversion of values, nothing that reads a tensor.

    def on_batch_begin(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_test_batch_end(batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        logs = _flatten_sorted(logs)
        for callback in self.callbacks:
            callback.on_predict_batch_end(batch, logs=logs)

    # Epoch and run hooks: values as Python floats.

    def on_epoch_begin(self, epoch, logs=None):
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_begin(self, logs=None):
        self._on_begin()
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_train_end(logs)
        self._on_end()

    def on_test_begin(self, logs=None):
        self._on_begin()
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_test_end(logs)
        self._on_end()

    def on_predict_begin(self, logs=None):
        self._on_begin()
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        logs = _pythonify(logs)
        for callback in self.callbacks:
            callback.on_predict_end(logs)
        self._on_end()


def _flatten_callbacks(callbacks):
    """A flat list from a callback, a (nested) list or tuple of them, or `None`."""
    if not callbacks:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    out = []
    for cb in callbacks:
        out.extend(_flatten_callbacks(cb) if isinstance(cb, (list, tuple)) else [cb])
    return out
