"""`CSVLogger`: streams the epoch results to a CSV file."""

import collections
import csv
import os

import numpy as np

from keraslike.callbacks.callback import Callback, _is_main_process


class CSVLogger(Callback):
    """Callback that streams epoch results to a CSV file.

    Writes one row per epoch: the epoch index, then every log key in sorted order (with
    `val_` columns added for every key when the first epoch has no validation results). The
    file is byte for byte what Keras writes. Under `torch.distributed`, only rank 0 writes.

    Args:
        filename: Filename of the CSV file, e.g. `"run/log.csv"`.
        separator: String used to separate elements in the CSV file.
        append: If `True`, append if the file exists (useful for continuing training);
            if `False`, overwrite an existing file.

    Example:

    ```python
    csv_logger = keras.callbacks.CSVLogger("training.log")
    model.fit(x, y, callbacks=[csv_logger])
    ```
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if not _is_main_process():
            return
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        # Opened as Keras does (no `newline=""`): rows end in "\r\n", as in Keras's files.
        self.csv_file = open(self.filename, mode)
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_file is None:
            return
        logs = logs or {}

        def handle_value(k):
            if isinstance(k, str):
                return k
            if hasattr(k, "detach") and k.ndim == 0:  # a 0-d tensor
                return float(k)
            is_zero_dim_ndarray = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim_ndarray:
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            # Without validation results in the first epoch, reserve their columns anyway.
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])

        if not self.writer:

            class CustomDialect(csv.excel):
                delimiter = self.sep

            fieldnames = ["epoch"] + (self.keys or [])
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=fieldnames, dialect=CustomDialect
            )
            if self.append_header:
                self.writer.writeheader()

        row_dict = collections.OrderedDict({"epoch": epoch})
        row_dict.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row_dict)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
