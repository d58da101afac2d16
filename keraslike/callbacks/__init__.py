"""Callbacks (`keras.callbacks`): hooks into `fit`, `evaluate` and `predict`.

One family per file. Batch hooks receive device tensors; only `TerminateOnNaN` (every
batch), `ModelCheckpoint` / `TensorBoard` with a batch frequency (on the batches they write)
and a `ProgbarLogger` redraw (at most every 0.05 s) read them back to the host.
"""

from keraslike.callbacks.backup_and_restore import BackupAndRestore
from keraslike.callbacks.callback import Callback
from keraslike.callbacks.callback_list import CallbackList
from keraslike.callbacks.csv_logger import CSVLogger
from keraslike.callbacks.early_stopping import EarlyStopping
from keraslike.callbacks.history import History
from keraslike.callbacks.lambda_callback import LambdaCallback
from keraslike.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from keraslike.callbacks.model_checkpoint import ModelCheckpoint
from keraslike.callbacks.monitor_callback import MonitorCallback
from keraslike.callbacks.progbar_logger import ProgbarLogger
from keraslike.callbacks.remote_monitor import RemoteMonitor
from keraslike.callbacks.swap_ema_weights import SwapEMAWeights
from keraslike.callbacks.tensorboard import TensorBoard
from keraslike.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "SwapEMAWeights",
    "TensorBoard",
    "RemoteMonitor",
    "TerminateOnNaN",
]


from keraslike._api_gaps import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("keraslike.callbacks")
