"""`BackupAndRestore`: resumes an interrupted `fit` from the last completed epoch.

The backup is one safetensors file, `latest.safetensors` in `backup_dir`, never a pickle:

- `model.<key>`: every tensor of `model.state_dict()` (weights and buffers);
- `optimizer.<name>`: every tensor of `model.optimizer.get_slot_state()` (step count,
  learning rate, slots);
- metadata: `epoch` (the last completed epoch, 0-based; `-1` for a backup written in the
  middle of the first epoch) and `batch` (the last batch seen, for batch-level backups).

It is written to a temporary file in `backup_dir`, then moved into place with `os.replace`,
so an interruption while writing never destroys the previous backup.
"""

import json
import os
import tempfile

from keraslike.callbacks.callback import Callback, _is_main_process
from keraslike.distribution.sharding import is_sharded

_MODEL_PREFIX = "model."
_OPTIMIZER_PREFIX = "optimizer."


class BackupAndRestore(Callback):
    """Callback to back up and restore the training state.

    If a `fit` run is interrupted (a crash, a pre-empted job), running the same `fit` again
    with this callback restores the model's weights, the optimizer's state and the epoch
    counter from the last backup, and continues with the next epoch. At the end of a
    successful run the backup is deleted (unless `delete_checkpoint=False`).

    The model restored into must be the one that was backed up (same architecture, same
    `compile` arguments). The restored epoch reaches `fit` through `model._initial_epoch`, set
    in `on_train_begin`. Under `torch.distributed`, every rank restores and only rank 0 writes.

    Args:
        backup_dir: Path of the directory holding the backup. Do not share it with another
            run or callback.
        save_freq: `"epoch"` to back up after every epoch, or an integer `N` to back up every
            `N` batches (a batch-level backup resumes at the start of the interrupted epoch,
            with the weights of that batch).
        double_checkpoint: If `True`, the previous backup is kept too
            (`latest.safetensors.bkp`), and used when the latest one cannot be read.
        delete_checkpoint: If `True` (default), delete the backup when training finishes.

    Example:

    ```python
    callback = keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    try:
        model.fit(x, y, epochs=10, callbacks=[callback, InterruptingCallback()])
    except RuntimeError:
        pass
    history = model.fit(x, y, epochs=10, callbacks=[callback])  # runs the remaining epochs
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        self.backup_dir = os.fspath(backup_dir)
        self._backup_path = os.path.join(self.backup_dir, "latest.safetensors")
        self._prev_backup_path = f"{self._backup_path}.bkp"
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )

    # ----------------------------------------------------------------- restore

    def on_train_begin(self, logs=None):
        if is_sharded(self.model):  # raised on every process: no rank waits for another
            raise NotImplementedError(
                "BackupAndRestore does not support a model sharded by "
                "keras.distribution.ModelParallel (FSDP2) yet. Use ModelCheckpoint (which "
                "saves the gathered model) or DataParallel."
            )
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0
        paths = [p for p in (self._backup_path, self._prev_backup_path) if os.path.exists(p)]
        if not paths:
            return
        if getattr(self.model, "built", True) is False:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model} is unbuilt. You can build it beforehand by "
                "calling it on a batch of data."
            )
        try:
            tensors, metadata = _read(paths[0])
        except Exception:
            # The latest backup is unreadable (e.g. a truncated file): fall back to the
            # previous one when there is one.
            if len(paths) < 2:
                raise
            tensors, metadata = _read(paths[1])
        if "order" in metadata:
            tensors = _match_by_order(tensors, json.loads(metadata["order"]), self._current_names())
        self._restore(tensors)
        self._current_epoch = int(metadata["epoch"]) + 1
        self.model._initial_epoch = self._current_epoch

    def _restore(self, tensors):
        model = self.model
        model_state = {k[len(_MODEL_PREFIX):]: v for k, v in tensors.items()
                       if k.startswith(_MODEL_PREFIX)}
        optimizer_state = {k[len(_OPTIMIZER_PREFIX):]: v for k, v in tensors.items()
                           if k.startswith(_OPTIMIZER_PREFIX)}
        model.load_state_dict(model_state)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and optimizer_state:
            if not optimizer.built:
                optimizer.build(_trainable_weights(model))
            optimizer.set_slot_state(optimizer_state)

    def _current_names(self):
        names = [_MODEL_PREFIX + k for k in self.model.state_dict()]
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            if not optimizer.built:
                optimizer.build(_trainable_weights(self.model))
            names += [_OPTIMIZER_PREFIX + k for k in optimizer.get_slot_state()]
        return names

    # ----------------------------------------------------------------- backup

    def _needs_batch_logs(self, mode):
        return False  # saves on a batch count; reads no values

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1  # batches are zero-indexed
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self):
        if not _is_main_process():
            return
        from safetensors.torch import save_file

        os.makedirs(self.backup_dir, exist_ok=True)
        tensors = _host_tensors(_MODEL_PREFIX, self.model.state_dict())
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", False):
            tensors.update(_host_tensors(_OPTIMIZER_PREFIX, optimizer.get_slot_state()))
        metadata = {
            "format": "pt",
            "keraslike": "BackupAndRestore",
            "order": json.dumps(list(tensors)),
            "epoch": str(self._current_epoch - 1),
            "batch": str(self._last_batch_seen),
        }
        fd, tmp_path = tempfile.mkstemp(prefix=".latest-", suffix=".tmp", dir=self.backup_dir)
        os.close(fd)
        try:
            save_file(tensors, tmp_path, metadata=metadata)
            if self.double_checkpoint and os.path.exists(self._backup_path):
                os.replace(self._backup_path, self._prev_backup_path)
            os.replace(tmp_path, self._backup_path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
            raise

    def on_train_end(self, logs=None):
        if not (self.delete_checkpoint and _is_main_process()):
            return
        for path in (self._backup_path, self._prev_backup_path):
            if os.path.exists(path):
                os.remove(path)
        # Keras removes the whole directory; we remove only what we wrote, and the directory
        # when that leaves it empty.
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)


def _match_by_order(tensors, saved_order, current_names):
    """Renames saved tensors to the current model's names when only the names differ.

    A model rebuilt in the same session gets new default layer names (`dense_2` instead of
    `dense`); like Keras's weight files, the backup then matches by position, provided the
    count and every shape agree.
    """
    if set(tensors) == set(current_names) or len(saved_order) != len(current_names):
        return tensors
    return {new: tensors[old] for old, new in zip(saved_order, current_names)}


def _trainable_weights(model):
    weights = getattr(model, "trainable_weights", None)
    if weights is None:
        weights = [p for p in model.parameters() if p.requires_grad]
    return list(weights)


def _host_tensors(prefix, state):
    """`prefix + name -> contiguous CPU tensor`, with aliased storage copied (safetensors
    refuses tensors that share memory)."""
    out, seen = {}, set()
    for name, tensor in state.items():
        t = tensor.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen and t.numel():
            t = t.clone()
        seen.add(ptr)
        out[prefix + name] = t
    return out


def _read(path):
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if "epoch" not in metadata:
        raise ValueError(f"'{path}' is not a BackupAndRestore backup (no epoch in its metadata).")
    return tensors, metadata
