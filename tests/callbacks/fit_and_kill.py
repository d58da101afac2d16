"""A training script for `test_kill_during_fit.py`: `python fit_and_kill.py OUT [BACKUP_DIR]`.

Trains a small model with dropout on shuffled data (`shuffle=True`, the default), printing
`step <epoch> <batch>` after every batch; with BACKUP_DIR, a `BackupAndRestore` backs up after
every batch (so a `kill -9` often lands inside a save). At the end it writes the weights and the
optimizer's slots to OUT (safetensors) and prints `DONE`.
"""

import sys

import numpy as np
import torch
from safetensors.torch import save_file

import keraslike as keras


class Report(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        print(f"step {self.epoch} {batch}", flush=True)


def main(out, backup_dir=None):
    torch.set_num_threads(1)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((48, 6)).astype("float32")
    y = rng.standard_normal((48, 1)).astype("float32")
    inputs = keras.Input((6,))
    h = keras.layers.Dense(32, activation="relu")(inputs)
    h = keras.layers.Dropout(0.25)(h)
    h = keras.layers.Dense(32, activation="relu")(h)
    outputs = keras.layers.Dense(1)(keras.layers.Dropout(0.25)(h))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    callbacks = [Report()]
    if backup_dir:
        callbacks.insert(0, keras.callbacks.BackupAndRestore(backup_dir, save_freq=1))
    model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=callbacks)
    tensors = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"optimizer.{k}": v.contiguous() for k, v in model.optimizer.get_slot_state().items()})
    save_file(tensors, out)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
