"""`BackupAndRestore`: resumes an interrupted `fit` exactly where the last backup was taken.

The backup is one safetensors file, `latest.safetensors` in `backup_dir`, never a pickle:

- `model.<key>`: every tensor of `model.state_dict()` (weights, buffers, layers' SeedGenerators);
- `optimizer.<name>`: every tensor of `model.optimizer.get_slot_state()` (step count,
  learning rate, slots);
- `metric.<i>.<j>`: the state of the model's metrics (a resume inside an epoch continues its
  running averages);
- `rng.<name>`: the process's random state (`keraslike.random.rng_state`: torch CPU and CUDA,
  the global `keras.random` SeedGenerator, NumPy, Python), and `data_rng.<name>`: the state
  the current pass over the data drew its order from;
- metadata: `epoch` (the last completed epoch, 0-based; `-1` for a backup written in the
  middle of the first epoch), `batch` (the last batch seen), `step` (the next step of the epoch
  in progress, 0 at an epoch's end) and `data_cursor` (batches of the current pass done, absent
  between passes).

So a resumed run draws the same data order, dropout masks and random ops as the run it
replaces: with the same code and data it ends bitwise equal on the CPU (beyond Keras, whose
resumed runs differ when shuffling). It is written to a temporary file in `backup_dir`, fsynced,
then moved into place with `os.replace` (`keraslike.backend.atomic_files`), so an interruption
while writing never destroys the previous backup; temp files of killed runs are removed by the
next run.
"""

import json
import os

import torch

from keraslike.backend.atomic_files import atomic_path, remove_stale
from keraslike.callbacks.callback import Callback, _is_main_process
from keraslike.distribution.sharding import is_sharded
from keraslike.random import rng_state

_MODEL_PREFIX = "model."
_OPTIMIZER_PREFIX = "optimizer."
_METRIC_PREFIX = "metric."
_RNG_PREFIX = "rng."
_DATA_RNG_PREFIX = "data_rng."


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
        self._last_batch_seen = -1
        self._batches_seen_since_last_saving = 0
        self._metric_state = None
        data = self._data()
        if data is not None:
            data.record_positions = True  # each pass keeps the random state it starts from
        if _is_main_process() and os.path.isdir(self.backup_dir):
            remove_stale(self.backup_dir, _temp_prefix())
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
        except ValueError:
            # The latest backup is unreadable (e.g. a truncated file): fall back to the
            # previous one when there is one.
            if len(paths) < 2:
                raise
            tensors, metadata = _read(paths[1])
        if "order" in metadata:
            tensors = _match_by_order(tensors, json.loads(metadata["order"]), self._current_names())
        self._restore(tensors)
        step = int(metadata.get("step", 0))
        if step and "data_cursor" not in metadata and "rng.torch" in tensors:
            # Saved at the last batch of an epoch, killed before its end: that epoch has no
            # batch left, so the run resumes with the next one (the epoch's end hooks are lost).
            metadata["epoch"], step = str(int(metadata["epoch"]) + 1), 0
        self._current_epoch = int(metadata["epoch"]) + 1
        self._last_batch_seen = step - 1
        self.model._initial_epoch = self._current_epoch
        self.model._initial_step = step
        self._restore_position(tensors, metadata, step, data)

    def _restore_position(self, tensors, metadata, step, data):
        now = _unprefixed(tensors, _RNG_PREFIX)
        if not now:
            return  # a backup written before random states were saved
        if step:
            self._metric_state = _unprefixed(tensors, _METRIC_PREFIX)
        if data is None:
            rng_state.set_state(now)
            return
        cursor = metadata.get("data_cursor")
        data.resume(
            None if cursor is None else int(cursor),
            _unprefixed(tensors, _DATA_RNG_PREFIX) or None,
            now,
            epoch_step=step,
            end_draw_pending=metadata.get("data_end_draw") == "1",
        )

    def on_epoch_begin(self, epoch, logs=None):
        # The first epoch of a run resumed inside an epoch continues its metrics (the loop has
        # just reset them).
        if self._metric_state is not None:
            # Metrics not built yet (compiled metrics are built by the first batch) get the
            # saved sums added after that batch.
            self._metric_state = _set_metric_state(self.model, self._metric_state) or None

    def _data(self):
        return getattr(self.model, "_fit_data", None)

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
        self._last_batch_seen = -1
        if self.save_freq == "epoch" or self._batches_seen_since_last_saving == 0:
            # A batch-level backup of the epoch's last batch is replaced by an epoch-end one,
            # so the resumed run does not start with an epoch that has no batch left.
            self._save_model(step=0)

    def on_train_batch_end(self, batch, logs=None):
        if self._metric_state is not None:
            _set_metric_state(self.model, self._metric_state, add=True)
            self._metric_state = None
        if self._should_save_on_batch(batch):
            self._save_model(step=batch + 1)

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

    def _save_model(self, step):
        if not _is_main_process():
            return
        from safetensors.torch import save_file

        os.makedirs(self.backup_dir, exist_ok=True)
        tensors = _host_tensors(_MODEL_PREFIX, self.model.state_dict())
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", False):
            tensors.update(_host_tensors(_OPTIMIZER_PREFIX, optimizer.get_slot_state()))
        order = list(tensors)
        tensors.update(_host_tensors(_METRIC_PREFIX, _metric_state(self.model)))
        tensors.update(_host_tensors(_RNG_PREFIX, rng_state.get_state()))
        metadata = {
            "format": "pt",
            "keraslike": "BackupAndRestore",
            "order": json.dumps(order),
            "epoch": str(self._current_epoch - 1),
            "batch": str(self._last_batch_seen),
            "step": str(step),
        }
        data = self._data()
        position = data.position() if data is not None else None
        if data is not None and data.end_draw_pending():
            metadata["data_end_draw"] = "1"
        if position is not None:
            cursor, pass_rng = position
            metadata["data_cursor"] = str(cursor)
            if pass_rng is not None:
                tensors.update(_host_tensors(_DATA_RNG_PREFIX, pass_rng))
        with atomic_path(self._backup_path) as tmp_path:
            save_file(tensors, tmp_path, metadata=metadata)
            if self.double_checkpoint and os.path.exists(self._backup_path):
                os.replace(self._backup_path, self._prev_backup_path)

    def on_train_end(self, logs=None):
        if not (self.delete_checkpoint and _is_main_process()):
            return
        for path in (self._backup_path, self._prev_backup_path):
            if os.path.exists(path):
                os.remove(path)
        remove_stale(self.backup_dir, _temp_prefix())
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
    if set(saved_order) == set(current_names) or len(saved_order) != len(current_names):
        return tensors
    renamed = {k: v for k, v in tensors.items() if k not in set(saved_order)}  # rng., metric.
    renamed.update({new: tensors[old] for old, new in zip(saved_order, current_names)})
    return renamed


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


def _temp_prefix():
    return ".latest.safetensors.tmp-"


def _unprefixed(tensors, prefix):
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _metric_state(model):
    """`{"<i>.<j>": tensor}` of metric `i`'s state; a running mean kept as a device total and
    a host count (the loss trackers) gives `<i>.total` and `<i>.count`."""
    state = {}
    for i, metric in enumerate(getattr(model, "metrics", [])):
        if _is_running_mean(metric):
            if metric.total is not None:
                state[f"{i}.total"] = metric.total
                state[f"{i}.count"] = torch.tensor(float(metric.count), dtype=torch.float64)
            continue
        for j, variable in enumerate(getattr(metric, "variables", [])):
            state[f"{i}.{j}"] = variable
    return state


def _set_metric_state(model, state, add=False):
    """Sets (or, with `add`, adds) the saved metric state; returns what found no variable."""
    missing = dict(state)
    with torch.no_grad():
        for i, metric in enumerate(getattr(model, "metrics", [])):
            if _is_running_mean(metric):
                if f"{i}.total" in state and not add:
                    device = getattr(model, "_training_device", lambda: None)()
                    metric.total = state[f"{i}.total"].clone().to(device)
                    count = float(state[f"{i}.count"])
                    metric.count = int(count) if count.is_integer() else count
                missing.pop(f"{i}.total", None)
                missing.pop(f"{i}.count", None)
                continue
            for j, variable in enumerate(getattr(metric, "variables", [])):
                value = missing.pop(f"{i}.{j}", None)
                if value is not None:
                    value = value.to(variable.device, variable.dtype)
                    variable.add_(value) if add else variable.copy_(value)
    return missing


def _is_running_mean(metric):
    return not isinstance(metric, torch.nn.Module) and hasattr(metric, "total") and hasattr(metric, "count")


def _read(path):
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as error:
        raise ValueError(
            f"Cannot restore from the backup {path!r}: it is not a readable safetensors file "
            f"({error}). Delete it to start the training from the beginning."
        ) from error
    if "epoch" not in metadata:
        raise ValueError(f"'{path}' is not a BackupAndRestore backup (no epoch in its metadata).")
    return tensors, metadata
