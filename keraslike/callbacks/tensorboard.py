"""`TensorBoard`: writes losses, metrics and weight histograms for TensorBoard.

Written through `torch.utils.tensorboard.SummaryWriter`, so it needs the `tensorboard`
package (not TensorFlow).
"""

import importlib.util
import os
import time

from keraslike.callbacks.callback import Callback, _is_main_process


def _require_tensorboard():
    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            "The TensorBoard callback requires the `tensorboard` package, which is not "
            "installed. Install it with `pip install tensorboard`."
        )


def _summary_writer_class():
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard.

    Logs, under `log_dir/train` and `log_dir/validation`:

    * epoch results as scalars `epoch_{name}` (validation results in `validation` without
      their `val_` prefix), with the optimizer's `learning_rate`;
    * with `update_freq` set to `"batch"` or an integer, batch results `batch_{name}` every
      `update_freq` batches (each write reads that batch's logs back from the device: one host
      sync per written batch);
    * with `histogram_freq`, weight histograms every `histogram_freq` epochs;
    * after each evaluation, `evaluation_{name}_vs_iterations` against the optimizer's step.

    Then run `tensorboard --logdir=path_to_your_logs`. Under `torch.distributed`, only rank 0
    writes.

    Args:
        log_dir: Directory where the event files are written. Defaults to `"logs"`.
        histogram_freq: Frequency (in epochs) of weight histograms; 0 disables them.
        write_graph: Accepted for compatibility; graphs are not written (as in Keras 3 on
            non-TensorFlow backends).
        write_images: Accepted for compatibility; weight images are not written.
        write_steps_per_second: Whether to log training steps per second (per epoch, and per
            written batch).
        update_freq: `"epoch"`, `"batch"` (same as 1) or an integer number of batches.
        profile_batch: Must be 0: profiling is not available on the torch backend (as in
            Keras 3); use `torch.profiler` directly.
        embeddings_freq: Frequency (in epochs) at which the weights are saved for the
            embedding projector (`train/keras_embedding.ckpt-{epoch}.weights.safetensors`).
        embeddings_metadata: Accepted for compatibility.

    Raises:
        ImportError: At construction, when the `tensorboard` package is not installed.

    Example:

    ```python
    tensorboard_callback = keras.callbacks.TensorBoard(log_dir="./logs")
    model.fit(x_train, y_train, epochs=2, callbacks=[tensorboard_callback])
    ```
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        _require_tensorboard()
        if profile_batch:
            raise ValueError(
                "Profiling is not yet available with the torch backend. Please open a PR if "
                f"you'd like to add this feature. Received: profile_batch={profile_batch} "
                "(must be 0)"
            )
        if update_freq != "epoch" and update_freq != "batch" and not (
            isinstance(update_freq, int) and update_freq > 0
        ):
            raise ValueError(
                "`update_freq` must be 'epoch', 'batch' or a positive integer. "
                f"Received: update_freq={update_freq}"
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._writers = {}
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")

    def set_model(self, model):
        self._model = model
        self._close_writers()

    def _writer(self, kind):
        """The `SummaryWriter` of `kind` (`"train"` or `"val"`), created on first use."""
        if kind not in self._writers:
            directory = self._train_dir if kind == "train" else self._val_dir
            self._writers[kind] = _summary_writer_class()(log_dir=directory)
        return self._writers[kind]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _needs_batch_logs(self, mode):
        return mode == "train" and self.update_freq != "epoch"

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        if not _is_main_process():
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            run_time = time.time() - self._batch_start_time
            writer.add_scalar("batch_steps_per_second", 1.0 / run_time if run_time else 0.0, step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)  # host sync, on written batches

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        if not _is_main_process():
            return
        step = int(optimizer.iterations)
        writer = self._writer("val")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
        writer.flush()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = int(self.model.optimizer.iterations)
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if not _is_main_process():
            return
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            path = os.path.join(
                self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.safetensors"
            )
            os.makedirs(self._train_dir, exist_ok=True)
            self.model.save_weights(path)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is not None:
            inner = getattr(optimizer, "optimizers", None)
            if inner is not None:
                for opt in inner:
                    train_logs[f"learning_rate_{opt.name}"] = float(opt.learning_rate)
            elif hasattr(optimizer, "learning_rate"):
                train_logs["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            elapsed = time.time() - self._epoch_start_time
            steps = int(self.model.optimizer.iterations) - self._previous_epoch_iterations
            train_logs["steps_per_second"] = steps / elapsed if elapsed else 0.0
        if train_logs:
            writer = self._writer("train")
            for name, value in train_logs.items():
                writer.add_scalar(f"epoch_{name}", value, epoch)
            writer.flush()
        if val_logs:
            writer = self._writer("val")
            for name, value in val_logs.items():
                writer.add_scalar(f"epoch_{name[4:]}", value, epoch)
            writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for name, weight in _named_weights(self.model):
            tag = f"{name.replace(':', '_')}/histogram"
            writer.add_histogram(tag, weight.detach().cpu(), epoch)
        writer.flush()


def _named_weights(model):
    """`(name, tensor)` pairs: Keras weight paths (`dense/kernel`) and Keras-layout values (an
    LSTM bias is torch's two biases summed) where layers give them, else the module's
    `state_dict` names."""
    layers = getattr(model, "layers", None)
    if layers is not None:
        out = []
        for layer in layers:
            for weight in getattr(layer, "weights", ()):
                out.append((getattr(weight, "path", None) or f"{layer.name}/weight", weight))
        return out
    return list(model.state_dict().items())
