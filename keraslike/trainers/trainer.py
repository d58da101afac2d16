"""Trainer: Keras's `compile / fit / evaluate / predict` for keraslike models.

`Model` inherits these methods. One training step is: forward, per-output losses (+ weight
penalties and added losses), `backward`, optimizer step, constraints, metric updates. Losses and
metrics accumulate on the device; the host reads them once per epoch (and when the progress bar
prints), never once per step.
"""

import contextlib
import warnings

import torch

from keraslike import optimizers as optimizers_module
from keraslike.backend import runtime_flags
from keraslike.backend.traceback_utils import filter_traceback
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.trainers.compile_utils import CompileLoss, CompileMetrics, RunningMean
from keraslike.trainers import structures
from keraslike.trainers.data_adapters import is_array_like
from keraslike.trainers import epoch_loop


class Trainer:
    """Mixin giving a model `compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` calls."""

    # ------------------------------------------------------------------ compile

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configures the model for training.

        Args:
            optimizer: Optimizer name (`"rmsprop"`, `"adam"`, ...) or instance.
            loss: A loss (name, function or `Loss`), a list with one per output, or a dict by
                output name.
            loss_weights: Optional list or dict of per-output loss coefficients.
            metrics: List of metrics (names, functions or `Metric`s) for the single output, for
                every output, or one list per output; or a dict by output name.
            weighted_metrics: Like `metrics`, but given the sample weights.
            run_eagerly: Accepted for compatibility (training always runs eagerly in torch).
            steps_per_execution: Accepted for compatibility.
            jit_compile: `True` runs the forward pass and loss through `torch.compile`.
                `"auto"` means `False` here.

        Raises:
            ValueError: For unknown optimizer, loss or metric names, or loss/metric structures
                that do not match the model's outputs.

        Example:

        ```python
        model.compile(
            optimizer=keras.optimizers.RMSprop(),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        ```
        """
        self.optimizer = optimizers_module.get(optimizer)
        names = structures.training_output_names(self)
        self.loss = loss
        self._compile_config = {
            "optimizer": optimizer,
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
        }
        dict_outputs = isinstance(getattr(self, "_outputs_struct", None), dict)
        self._compile_loss = (
            CompileLoss(loss, loss_weights, names, dict_outputs) if loss is not None else None
        )
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names)
        self._loss_tracker = RunningMean("loss")
        self.run_eagerly = run_eagerly
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile is True
        self._compiled_forward = None
        self.stop_training = False
        self.compiled = True

    def _assert_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise ValueError(f"You must call `compile()` before using the model. (Called: `{what}`.)")

    @property
    def metrics(self):
        """The loss trackers and compiled metrics (after the first batch)."""
        if not getattr(self, "compiled", False):
            return []
        result = [self._loss_tracker]
        if self._compile_loss is not None:
            result += list(self._compile_loss.reported_trackers)
        if self._compile_metrics.metrics:
            result += [m for _, m, _ in self._compile_metrics.metrics]
        return result

    @property
    def metrics_names(self):
        """Names of `model.metrics`."""
        return [m.name for m in self.metrics]

    def get_compile_config(self):
        """The arguments `compile` was called with, serialized (for saving), or `None`."""
        if not getattr(self, "compiled", False):
            return None
        from keraslike.trainers.compile_config import serialize_compile_config

        return serialize_compile_config(self._compile_config, self.optimizer)

    def compile_from_config(self, config):
        """Compiles the model from `get_compile_config()` output."""
        from keraslike.trainers.compile_config import deserialize_compile_config

        self.compile(**deserialize_compile_config(config))

    # ------------------------------------------------------------------ data

    def _training_device(self):
        for p in self.parameters():
            if p.device.type != "cpu":
                return p.device
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

    # ------------------------------------------------------------------ steps

    def _forward(self, x, training):
        """`self(x, training=training)`, running the plan directly when nothing else would run."""
        plan = getattr(self, "_plan", None)
        if isinstance(x, list) and plan is not None:
            if not (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks):
                # Batches were validated and converted once, for the whole data set: run the
                # plan directly (the nested layers' own hooks still fire inside it). The loops
                # set the module mode to `training` first, so no mode walk is needed here.
                results = plan.run(x, training)
                if isinstance(self._outputs_struct, KerasTensor):
                    return results[0]
                return nest.pack_like(self._outputs_struct, results)
            return self(*x, training=training) if len(x) > 1 else self(x[0], training=training)
        return self(x, training=training)

    def _losses_and_outputs(self, x, ys, sws):
        y_pred = structures.flatten_outputs(self, self._forward(x, True))
        total, per_output = self._total_loss(ys, y_pred, sws)
        return total, per_output, y_pred

    def _total_loss(self, ys, y_pred, sws):
        """`(total, per_output)`: weighted compiled losses plus weight penalties and added losses."""
        total, per_output = self._compile_loss(ys, y_pred, sws)
        extra = self._regularization_loss()
        if extra is not None:
            total = total + extra
        return total, per_output

    def _track_losses(self, total, per_output, batch_size):
        self._loss_tracker.update_state(total, batch_size)
        self._compile_loss.update_trackers(per_output, batch_size)

    def _regularization_loss(self):
        penalties = []
        for layer, spec, tensor in getattr(self, "_regularized_weights", ()):
            penalties.append(spec.regularizer(spec.layout.to_keras(tensor)))
        for layer in getattr(self, "_loss_layers", ()):
            penalties.extend(layer._losses)
        if not penalties:
            return None
        return torch.stack([torch.as_tensor(p).reshape(()) for p in penalties]).sum()

    def _prepare_training_state(self):
        """Collects, once per fit/evaluate, what each step needs (no module walks per step)."""
        from keraslike.layers.layer import Layer

        regularized, constrained, loss_layers = [], [], []
        for module in self.modules():
            if not isinstance(module, Layer):
                continue
            for spec in module._weight_specs:
                tensor = module._find_tensor(spec.attr)
                if spec.regularizer is not None:
                    regularized.append((module, spec, tensor))
                if spec.constraint is not None:
                    constrained.append((spec, tensor))
            if module.activity_regularizer is not None or module.__dict__.get("_uses_add_loss"):
                loss_layers.append(module)
        self._regularized_weights = regularized
        self._has_trainable_weights = bool(self.trainable_weights)
        self._constrained_weights = constrained
        self._loss_layers = loss_layers
        mixed = {m._dtype_policy_name for m in self.modules() if isinstance(m, Layer)}
        mixed = sorted(name for name in mixed if name.startswith("mixed_"))
        self._autocast_dtype = getattr(torch, mixed[0].split("_", 1)[1]) if mixed else None
        self._autocast_device = self._training_device().type
        if self._autocast_dtype is torch.float16 and getattr(self, "_loss_scale", None) is None:
            self._loss_scale = 2.0**15  # Keras's LossScaleOptimizer initial scale
            self._good_steps = 0

    def _autocast(self):
        if getattr(self, "_autocast_dtype", None) is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self._autocast_device, dtype=self._autocast_dtype)

    def _scaled_backward_and_step(self, total):
        """float16 training: dynamic loss scaling (one host read per step, as GradScaler does)."""
        (total * self._loss_scale).backward()
        grads = [p.grad for p in self.optimizer_variables() if p.grad is not None]
        for g in grads:
            g.div_(self._loss_scale)
        finite = bool(torch.stack([g.isfinite().all() for g in grads]).all()) if grads else True
        if not finite:
            self.optimizer.zero_grad()
            self._loss_scale /= 2.0
            self._good_steps = 0
            return
        self.optimizer.step()
        self._good_steps += 1
        if self._good_steps >= 2000:
            self._loss_scale *= 2.0
            self._good_steps = 0

    def optimizer_variables(self):
        """The trainable weights the optimizer updates."""
        return self.trainable_weights

    def _apply_constraints(self):
        with torch.no_grad():
            for spec, tensor in self._constrained_weights:
                tensor.copy_(spec.layout.to_torch(spec.constraint(spec.layout.to_keras(tensor))))

    def _build_compiled_state(self, ys, y_pred):
        if self._compile_loss is not None and self._compile_loss.losses is None:
            self._compile_loss.build(ys, y_pred)
        if self._compile_metrics.metrics is None:
            losses = self._compile_loss.losses if self._compile_loss is not None else None
            self._compile_metrics.build(ys, y_pred, losses)

    def _class_weighted(self, ys, sws, class_weight):
        if not class_weight:
            return sws
        if len(ys) != 1:
            raise ValueError("`class_weight` is only supported for models with a single output.")
        y = ys[0]
        table = torch.zeros(max(class_weight) + 1, device=y.device)
        for cls, weight in class_weight.items():
            table[int(cls)] = float(weight)
        labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(y.shape[0], -1)[:, 0]
        weights = table[labels.long()]
        return [weights if sws[0] is None else sws[0] * weights]

    def _train_step(self, x, ys, sws, batch_size):
        if self._compile_loss is None:
            raise ValueError("The model was compiled without a `loss`; `fit` needs one.")
        forward = self._compiled_forward or self._losses_and_outputs
        with self._autocast():
            total, per_output, y_pred = forward(x, ys, sws)
        self.optimizer.zero_grad()
        if not self._has_trainable_weights:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        elif getattr(self, "_loss_scale", None) is not None and self._autocast_dtype is torch.float16:
            self._scaled_backward_and_step(total)
        else:
            total.backward()
            self.optimizer.step()
        if self._constrained_weights:
            self._apply_constraints()
        with torch.no_grad():
            self._track_losses(total, per_output, batch_size)
            self._compile_metrics.update_state(ys, [p.detach() for p in y_pred], sws)
        return total

    def _test_step(self, x, ys, sws, batch_size):
        with torch.no_grad(), self._autocast():
            y_pred = structures.flatten_outputs(self, self._forward(x, False))
            self._build_compiled_state(ys, y_pred)
            if self._compile_loss is not None:
                self._track_losses(*self._total_loss(ys, y_pred, sws), batch_size)
            self._compile_metrics.update_state(ys, y_pred, sws)

    # ------------------------------------------------------------------ Keras's overridable steps

    def _user_structures(self, x, ys, sws):
        """Batch data as a user's `train_step` expects it (single tensors unwrapped)."""
        if isinstance(x, list) and len(x) == 1:
            x = x[0]
        names = structures.training_output_names(self)
        if getattr(self, "_plan", None) is not None and isinstance(self._outputs_struct, dict):
            y, sw = dict(zip(names, ys)), dict(zip(names, sws))
        else:
            y = ys[0] if len(ys) == 1 else list(ys)
            sw = sws[0] if len(sws) == 1 else list(sws)
        return x, y, sw

    def train_step(self, data):
        """One training step on `data = (x, y, sample_weight)`, returning the logs.

        `fit` calls this only when a subclass overrides it (Keras's custom-training contract:
        use `self.compute_loss`, `loss.backward()`, `self.optimizer.step()` or
        `self.optimizer.apply(grads, self.trainable_weights)`, `self.compute_metrics`).
        """
        x, y, sample_weight = data
        ys, sws = structures.flatten_targets(self, y), structures.flatten_sample_weights(self, sample_weight, len(structures.training_output_names(self)))
        self._train_step([x] if not isinstance(x, (list, dict)) else x, ys, sws, structures.batch_size(x))
        return self.get_metrics_result()

    def test_step(self, data):
        """One evaluation step on `data = (x, y, sample_weight)`, returning the logs."""
        x, y, sample_weight = data
        ys, sws = structures.flatten_targets(self, y), structures.flatten_sample_weights(self, sample_weight, len(structures.training_output_names(self)))
        self._test_step([x] if not isinstance(x, (list, dict)) else x, ys, sws, structures.batch_size(x))
        return self.get_metrics_result()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of a batch (per-output losses weighted, plus weight penalties).

        Also updates the loss trackers, as Keras's `compute_loss` does.
        """
        ys = structures.flatten_targets(self, y)
        preds = structures.flatten_outputs(self, y_pred)
        sws = structures.flatten_sample_weights(self, sample_weight, len(ys))
        self._build_compiled_state(ys, preds)
        total, per_output = self._total_loss(ys, preds, sws)
        self._track_losses(total, per_output, structures.batch_size(preds[0]))
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with a batch and returns `get_metrics_result()`."""
        ys = structures.flatten_targets(self, y)
        preds = [p.detach() for p in structures.flatten_outputs(self, y_pred)]
        sws = structures.flatten_sample_weights(self, sample_weight, len(ys))
        self._build_compiled_state(ys, preds)
        with torch.no_grad():
            self._compile_metrics.update_state(ys, preds, sws)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The current loss and metric results, by name (0-d tensors; no host read)."""
        return self._metric_tensors()

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        if self._compile_loss is not None:
            for tracker in self._compile_loss.trackers:
                if tracker is not None:
                    tracker.reset_state()
        self._compile_metrics.reset_state()

    def _metric_tensors(self):
        """Current results as 0-d tensors, in Keras's log order (sorted names)."""
        logs = {}
        if self._compile_loss is not None and self._loss_tracker.total is not None:
            logs["loss"] = self._loss_tracker.result()
            for tracker in self._compile_loss.trackers:
                if tracker is not None and tracker.total is not None:
                    logs[tracker.name] = tracker.result()
        for _, metric, _ in self._compile_metrics.metrics or ():
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return dict(sorted(logs.items()))

    def _ordered_results(self):
        """`[loss, per-output losses..., metrics...]` as evaluate returns them (Python floats)."""
        values = [self._loss_tracker.result()]
        if self._compile_loss is not None:
            values += [t.result() for t in self._compile_loss.reported_trackers]
        values += [m.result() for _, m, _ in self._compile_metrics.metrics or ()]
        return [_to_python(v) for v in values]

    # ------------------------------------------------------------------ public API

    @filter_traceback
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Trains the model for a number of epochs.

        Args:
            x: Input data: numpy arrays or tensors (one, a list, or a dict by input name), a
                `torch.utils.data.Dataset`/`DataLoader`, a generator or a `keras.utils.PyDataset`
                yielding `(x, y)` or `(x, y, sample_weight)`.
            y: Targets (one, a list, or a dict by output name) for in-memory `x`.
            batch_size: Samples per step for in-memory data (default 32).
            epochs: Index of the last epoch.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, `"auto"` = 1.
            callbacks: List of `keras.callbacks.Callback`.
            validation_split: Fraction of in-memory data (taken from the end) to validate on.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sample_weight)`, or a dataset.
            shuffle: Whether to reshuffle in-memory data each epoch (`"batch"` shuffles batches).
            class_weight: Optional dict class index -> weight.
            sample_weight: Optional per-sample weights (array of shape `(samples,)`).
            initial_epoch: Epoch to start from (for resuming).
            steps_per_epoch: Steps per epoch (needed for infinite generators).
            validation_steps: Steps per validation run.
            validation_batch_size: Batch size for validation data.
            validation_freq: Validate every `validation_freq` epochs (or at the listed epochs).

        Returns:
            A `History` object; `history.history` maps each metric name to its per-epoch values.
        """
        self._assert_compiled("fit")
        if validation_split and validation_data is None:
            if not is_array_like(x):
                raise ValueError(
                    "`validation_split` is only supported for in-memory data (numpy arrays or "
                    f"tensors), not for {type(x).__name__}. Pass `validation_data` instead."
                )
            if not 0 < validation_split < 1:
                raise ValueError(f"`validation_split` must be in (0, 1). Received: {validation_split}")
        if runtime_flags.max_epochs():  # keras.config.set_max_epochs: a debugging cap
            epochs = min(epochs, runtime_flags.max_epochs())
        if runtime_flags.max_steps_per_epoch():
            cap = runtime_flags.max_steps_per_epoch()
            steps_per_epoch = min(steps_per_epoch, cap) if steps_per_epoch else cap
        data = structures.make_data(self, x, y, sample_weight, batch_size, shuffle, steps_per_epoch, "fit")
        val_data = None
        if validation_split and validation_data is None:
            data, val_data = data.split(validation_split)
        elif validation_data is not None:
            val_data = structures.validation_data(self, validation_data, validation_batch_size or batch_size, validation_steps)
        return epoch_loop.fit(
            self,
            data,
            val_data,
            epochs=epochs,
            verbose=1 if verbose == "auto" else verbose,
            callbacks=callbacks,
            class_weight=class_weight,
            initial_epoch=initial_epoch,
            validation_freq=validation_freq,
        )

    @filter_traceback
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """Returns the loss and metrics of the model on data, in inference mode.

        Returns:
            A float when there is only the loss; else `[loss, per-output losses..., metrics...]`;
            with `return_dict=True`, a dict by name.
        """
        self._assert_compiled("evaluate")
        data = structures.make_data(self, x, y, sample_weight, batch_size, False, steps, "evaluate")
        return epoch_loop.evaluate(
            self, data, verbose=1 if verbose == "auto" else verbose, callbacks=callbacks, return_dict=return_dict
        )

    @filter_traceback
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Returns the model's outputs for `x` as numpy arrays (in the structure of `outputs`)."""
        data = structures.make_data(self, x, None, None, batch_size, False, steps, "predict")
        return epoch_loop.predict(self, data, verbose=1 if verbose == "auto" else verbose, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Runs one training step on one batch and returns the loss (and metrics)."""
        self._assert_compiled("train_on_batch")
        data = structures.make_data(self, x, y, sample_weight, None, False, None, "train_on_batch")
        data.batch_size = max(data.num_samples, 1)
        return epoch_loop.single_batch(self, data, train=True, class_weight=class_weight, return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Returns the loss (and metrics) of the model on one batch, without training."""
        self._assert_compiled("test_on_batch")
        data = structures.make_data(self, x, y, sample_weight, None, False, None, "test_on_batch")
        data.batch_size = max(data.num_samples, 1)
        return epoch_loop.single_batch(self, data, train=False, return_dict=return_dict)

    def predict_on_batch(self, x):
        """Returns the model's outputs on one batch as numpy arrays."""
        data = structures.make_data(self, x, None, None, None, False, None, "predict_on_batch")
        data.batch_size = max(data.num_samples, 1)
        return epoch_loop.predict(self, data, verbose=0, callbacks=None)


def _to_python(value):
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.detach().cpu().numpy()
    return value

