"""`ProgbarLogger`: the progress bar `fit`, `evaluate` and `predict` print."""

import time

from keraslike.callbacks.callback import Callback, _is_main_process, _print_msg
from keraslike.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Callback that prints metrics to stdout, exactly as Keras 3 does.

    With `verbose=1` a bar is redrawn in place during each epoch; with `verbose=2` one line is
    printed per epoch. The validation results are appended to the epoch's line. Batch logs are
    device tensors, read back only when a line is actually drawn (at most every 0.05 s), so
    the bar costs no host sync per step. Under `torch.distributed`, only rank 0 prints.

    The target (steps per epoch) is `params["steps"]`; when it is `None`, the bar counts up and
    learns the total at the end of the first epoch.
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        self.params = params
        verbose = params["verbose"]
        if verbose == "auto":
            verbose = 1
        if not _is_main_process():
            verbose = 0
        self.verbose = verbose
        self.epochs = params["epochs"]
        self.target = params["steps"]

    def _needs_batch_logs(self, mode):
        if mode == "train":
            return self.verbose == 1
        if mode == "test":
            return self.verbose == 1 and not self._called_in_fit
        return False  # predict: the bar shows no values

    def on_train_begin(self, logs=None):
        # Inside `fit`, validation is silent.
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            _print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # the predictions are not shown

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            # Every value is shown as given: the trainer's logs are already running means.
            self.progbar = Progbar(
                target=self.target, verbose=self.verbose, unit_name="step", stateless_metrics=set()
            )

    def _update_progbar(self, batch, logs=None):
        logs = logs or {}
        self._maybe_init_progbar()
        self.seen = batch + 1  # one-indexed
        if self.verbose != 1:
            return
        bar = self.progbar
        if time.time() - bar._last_update < bar.interval:
            # No redraw is due, so nothing would be shown: skip the bar's per-value work
            # (it is most of the per-step cost of a verbose fit). The values shown are the
            # trainer's running means, passed again at the next redraw, so skipping changes
            # no output. The first step of a bar is always drawn (its `_last_update` is 0),
            # so the bar's step-time estimate sees it.
            bar._seen_so_far = self.seen
            return
        bar.update(self.seen, list(logs.items()), finalize=False)

    def _finalize_progbar(self, logs):
        logs = logs or {}
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list(logs.items()), finalize=True)
