"""`SwapEMAWeights`: evaluates (and optionally checkpoints) with the optimizer's EMA weights."""

import torch

from keraslike.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's moving averages (`use_ema=True`).

    During evaluation and prediction (and, with `swap_on_epoch=True`, between the end of an
    epoch and the start of the next, so that checkpoints placed after this callback save the
    EMA weights) the model runs with the EMA weights. The swap is done in place on the device.

    Args:
        swap_on_epoch: Whether to swap at the end of each epoch and back at the start of the
            next. Defaults to `False`.

    Example:

    ```python
    model.compile(optimizer=keras.optimizers.SGD(use_ema=True), loss="mse")
    model.fit(x, y, callbacks=[keras.callbacks.SwapEMAWeights()])
    ```
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is not None:
            selected = [opt for opt in inner if getattr(opt, "use_ema", False)]
            if not selected:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers "
                    "having `use_ema=False`."
                )
        else:
            selected = [optimizer]
        for opt in selected:
            if not hasattr(opt, "_model_variables_moving_average"):
                raise ValueError(
                    "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                    f"Received: use_ema={getattr(opt, 'use_ema', None)}"
                )
        return selected

    @torch.no_grad()
    def _swap_variables(self):
        for opt in self._ema_optimizers():
            for var, average in zip(opt._trainable_variables, opt._model_variables_moving_average):
                tmp = var.detach().clone()
                var.copy_(average)
                average.copy_(tmp)

    @torch.no_grad()
    def _finalize_ema_values(self):
        for opt in self._ema_optimizers():
            for var, average in zip(opt._trainable_variables, opt._model_variables_moving_average):
                average.copy_(var)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # `fit` ends with `finalize_variable_values`, which writes the averages into the
            # model: after the last epoch the averages must hold the EMA weights again.
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        # Keras 3.15 tests `not self._ema_weights_in_model` here, which leaves the EMA weights
        # in the model after `predict`; we swap back.
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
