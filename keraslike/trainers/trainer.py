"""Trainer: Keras's `compile / fit / evaluate / predict` for keraslike models.

`Model` inherits these methods. One training step is: forward, per-output losses (+ weight
penalties and added losses), `backward`, optimizer step, constraints, metric updates. Losses and
metrics accumulate on the device; the host reads them once per epoch (and when the progress bar
prints), never once per step.
"""

import contextlib
import inspect
import warnings

import numpy as np
import torch

from keraslike import optimizers as optimizers_module
from keraslike.backend import compiler, runtime_flags
from keraslike.backend.errors import ArgumentTypeError
from keraslike.backend.traceback_utils import filter_traceback
from keraslike.metrics.metric import Metric
from keraslike.trainers import direct_predict, distributed, epoch_loop, step_state, structures
from keraslike.trainers.compile_config import deserialize_compile_config, serialize_compile_config
from keraslike.trainers.compile_utils import CompileLoss, CompileMetrics, RunningMean
from keraslike.trainers.data_adapters import is_array_like, keras_loader_draws
from keraslike.trainers.step_state import StepState

_COMPUTE_LOSS_TAKES_TRAINING = {}


def _takes_training(cls):
    """Whether `cls.compute_loss` accepts `training` (cached per class)."""
    found = _COMPUTE_LOSS_TAKES_TRAINING.get(cls)
    if found is None:
        params = inspect.signature(cls.compute_loss).parameters
        found = "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
        _COMPUTE_LOSS_TAKES_TRAINING[cls] = found
    return found


class Trainer:
    """Mixin giving a model `compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` calls."""

    # ------------------------------------------------------------------ compile

    @filter_traceback
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
        # As Keras 3: compiling again without `loss` (or without metrics) keeps the loss (the
        # metrics) of the previous `compile`; only what is given is replaced.
        if loss is not None:
            self.loss = loss
            self._compile_loss = CompileLoss(loss, loss_weights, names, dict_outputs)
        else:
            self.loss = getattr(self, "loss", None)
            self._compile_loss = getattr(self, "_compile_loss", None)
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names, self._compile_loss)
        else:
            self._compile_metrics = getattr(self, "_compile_metrics", None)
        self._loss_tracker = RunningMean("loss")
        self.run_eagerly = run_eagerly
        if (isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int)
                or steps_per_execution < 1):
            # Keras fails later ("range() arg 3 must not be zero"); say which argument now.
            raise ValueError(
                "`steps_per_execution` must be a positive integer. "
                f"Received: steps_per_execution={steps_per_execution!r}"
            )
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile is True
        self.train_function = None
        self.test_function = None
        self.predict_function = None
        self.stop_training = False
        self.compiled = True

    def _assert_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise ValueError(f"You must call `compile()` before using the model. (Called: `{what}`.)")

    @property
    def metrics(self):
        """The model's metrics, in Keras's order: the loss tracker (`"loss"`), the compiled
        metrics (one object named `"compile_metrics"`), the per-output loss trackers, then
        metrics assigned as attributes of the model or of its layers."""
        result = []
        if getattr(self, "compiled", False):
            result.append(self._loss_tracker)
            if self._compile_metrics is not None:
                result.append(self._compile_metrics)
            if self._compile_loss is not None:
                result.extend(self._compile_loss.metrics)
        result.extend(self._tracked_metrics())
        return result

    def _tracked_metrics(self):
        """`Metric`s held by the model or its layers (not those of nested compiled models)."""
        found = []
        stack = list(self._modules.values())[::-1]
        while stack:
            module = stack.pop()
            if isinstance(module, Metric):
                found.append(module)
            elif module is not None and not isinstance(module, Trainer):
                stack.extend(list(module._modules.values())[::-1])
        return found

    @property
    def metrics_names(self):
        """Names of `model.metrics`."""
        return [m.name for m in self.metrics]

    def get_compile_config(self):
        """The arguments `compile` was called with, serialized (for saving), or `None`."""
        if not getattr(self, "compiled", False):
            return None
        return serialize_compile_config(self._compile_config, self.optimizer)

    def compile_from_config(self, config):
        """Compiles the model from `get_compile_config()` output.

        A model whose class overrides `compile` is left uncompiled with a warning, as in Keras:
        its `compile` may take other arguments than the saved ones. Such a class should also
        override `get_compile_config` and `compile_from_config`.
        """
        if type(self).compile is not Trainer.compile:
            warnings.warn(
                "`compile()` was not called as part of model loading because the model's "
                "`compile()` method is custom. All subclassed Models that have `compile()` "
                "overridden should also override `get_compile_config()` and "
                "`compile_from_config(config)`. Alternatively, you can call `compile()` "
                "manually after loading.",
                stacklevel=2,
            )
            return
        self.compile(**deserialize_compile_config(config))

    # ------------------------------------------------------------------ data

    def _training_device(self):
        for p in self.parameters():
            if p.device.type != "cpu":
                return p.device
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

    def _prepare_training_state(self):
        """Gathers, once per run, what the steps read (see `trainers/step_state.py`)."""
        self._step_state = StepState(self)

    def _autocast(self):
        state = getattr(self, "_step_state", None)
        return state.autocast() if state is not None else contextlib.nullcontext()

    # ------------------------------------------------------------------ Keras's steps

    def train_step(self, data):
        """One training step (Keras 3's torch-backend `train_step`): returns the logs.

        `data` is what the data yields: `(x,)`, `(x, y)` or `(x, y, sample_weight)`. The step
        calls `self(x, training=True)`, `self.compute_loss(...)`, `loss.backward()`,
        `self.optimizer.apply(grads, self.trainable_weights)` and `self.compute_metrics(...)`.
        `fit` runs this method, or the subclass's override of it (or of `compute_loss` /
        `compute_metrics`).

        Example (an override in Keras's torch style):

        ```python
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply([v.value.grad for v in weights], weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}
        ```
        """
        x, y, sample_weight = structures.unpack_x_y_sample_weight(data)
        y_pred = step_state.call_model(self, x, True)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        self._loss_tracker.update_state(loss, sample_weight=structures.batch_size(x))
        if self.optimizer is not None:
            loss = self.optimizer.scale_loss(loss)
        weights = self._step_state.trainable_weights
        if weights:
            step_state.backward_and_apply(self, loss, weights)
        else:
            step_state.warn_no_trainable_weights()
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """One evaluation step: `self(x, training=False)`, the loss and the metrics; returns the
        logs."""
        x, y, sample_weight = structures.unpack_x_y_sample_weight(data)
        y_pred = step_state.call_model(self, x, False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=structures.batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """One prediction step: returns `self(x, training=False)`."""
        x, _, _ = structures.unpack_x_y_sample_weight(data)
        return step_state.call_model(self, x, False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled loss plus the losses added by layers.

        The compiled per-output losses (weighted), then every loss in `self.losses` (added with
        `add_loss` during this forward, activity regularizers, weight regularizers), each summed.
        Subclasses may override it; `fit` then trains on the override (with or without a
        compiled `loss`).

        Args:
            x: Input data.
            y: Target data.
            y_pred: Predictions returned by the model (output of `model(x)`).
            sample_weight: Sample weights for weighting the loss function.
            training: Whether we are training or evaluating the model.

        Returns:
            The total loss as a scalar tensor.

        Raises:
            ValueError: When there is no loss at all ("No loss to compute").
        """
        del x, training
        losses = []
        if self._compile_loss is not None:
            loss = self._compile_loss(y, y_pred, sample_weight)
            if loss is not None:
                losses.append(loss)
        for loss in self._added_losses():
            loss = torch.as_tensor(loss)
            if not loss.is_floating_point():
                loss = loss.float()
            losses.append(loss.sum())
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    def _added_losses(self):
        """`self.losses`, read without module walks when the step state allows it."""
        state = getattr(self, "_step_state", None)
        collected = getattr(self, "_collected_losses", None)
        if state is not None and collected is not None:
            return list(collected()) + state.regularization_losses()
        return self.losses

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Calls `compute_loss`, without `training` for overrides written before Keras 3.3."""
        if _takes_training(type(self)):
            return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with a batch and returns `get_metrics_result()`."""
        del x
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The current results of `self.metrics`, by name (0-d tensors: no host read)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return logs

    def reset_metrics(self):
        """Resets the state of every metric in `self.metrics`."""
        for metric in self.metrics:
            metric.reset_state()

    def _get_metrics_result_or_logs(self, logs):
        """The model's metric results when `logs` has the same keys, else `logs` (a custom step's
        own logs), as in Keras."""
        metric_logs = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(metric_logs):
            return metric_logs
        return logs

    def _flatten_metrics_in_order(self, logs):
        """`logs` as the list `evaluate` returns (Keras's order): the loss, then per-output
        losses, metrics in compile order, then any other key in sorted order."""
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                # Keras names a multi-output model's compiled metrics per output list, not by the
                # log keys, so those come after the losses, in sorted order.
                if len(metric.output_names) == 1:
                    names += [m.name for m in metric.metrics]
            else:
                names.append(metric.name)
        results = [logs[name] for name in names if name in logs]
        results += [logs[key] for key in sorted(logs) if key not in names]
        return results[0] if len(results) == 1 else results

    # ------------------------------------------------------------------ step functions

    def make_train_function(self, force=False):
        """Composes the training step once: `train_step` (built-in or overridden), under the
        mixed-precision autocast, compiled with `torch.compile` when `jit_compile=True`, and
        under data parallelism composed with the `DistributedDataParallel` wrapper.

        Returns:
            The function `fit` calls on each batch's data.
        """
        if getattr(self, "train_function", None) is not None and not force:
            return self.train_function
        step = self._compose_step(self.train_step, no_grad=False)
        self.train_function = distributed.wrap_train_step(self, step)
        return self.train_function

    def make_test_function(self, force=False):
        """Composes the evaluation step once (`test_step` under `torch.no_grad()`)."""
        if getattr(self, "test_function", None) is not None and not force:
            return self.test_function
        self.test_function = self._compose_step(self.test_step, no_grad=True)
        return self.test_function

    def make_predict_function(self, force=False):
        """Composes the prediction step once (`predict_step` under `torch.no_grad()`)."""
        if getattr(self, "predict_function", None) is not None and not force:
            return self.predict_function
        self.predict_function = self._compose_step(self.predict_step, no_grad=True)
        return self.predict_function

    def _compose_step(self, step, no_grad):
        if getattr(self, "jit_compile", False):
            compiler.install()
            step = torch.compile(step)
        else:
            compiler.install_if_loaded()

        def one_step_on_data(data):
            """Runs a single step on a batch of data."""
            with self._autocast():
                if no_grad:
                    with torch.no_grad():
                        return step(data)
                return step(data)

        return one_step_on_data

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
            shuffle: Whether to reshuffle in-memory data each epoch (`"batch"` shuffles batches);
                a finite `keras.utils.PyDataset` is visited in a new batch order each epoch.
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
            if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)):
                raise ArgumentTypeError(  # a TypeError, as Keras's (it fails subtracting it)
                    "`validation_split` must be a float in (0, 1). "
                    f"Received: validation_split={validation_split!r} of type {type(validation_split).__name__}"
                )
            if not 0 < validation_split < 1:
                # Keras raises only when a side is empty; 1.5 silently validates on the tail.
                raise ValueError(f"`validation_split` must be in (0, 1). Received: {validation_split}")
        if runtime_flags.max_epochs():  # keras.config.set_max_epochs: a debugging cap
            epochs = min(epochs, runtime_flags.max_epochs())
        if runtime_flags.max_steps_per_epoch():
            cap = runtime_flags.max_steps_per_epoch()
            steps_per_epoch = min(steps_per_epoch, cap) if steps_per_epoch else cap
        data = structures.make_data(
            self, x, y, sample_weight, batch_size, shuffle, steps_per_epoch, "fit", class_weight
        )
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
        if callbacks is None and verbose == 0 and steps is None and (
            batch_size is None or (type(batch_size) is int and batch_size > 0)
        ):
            facts = direct_predict.lookup(self, _builtin_predict)
            if facts is not None:
                outputs = direct_predict.predict(self, facts, x, batch_size or 32)
                if outputs is not None:
                    # What Keras's DataLoader would have drawn (a pass's start and end): the
                    # global random stream stays where Keras's (and the loop's) leaves it.
                    keras_loader_draws(2)
                    return outputs
        data = structures.make_data(self, x, None, None, batch_size, False, steps, "predict")
        return epoch_loop.predict(self, data, verbose=1 if verbose == "auto" else verbose, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Runs one training step on one batch and returns the loss (and metrics)."""
        self._assert_compiled("train_on_batch")
        data = structures.make_data(
            self, x, y, sample_weight, None, False, None, "train_on_batch", class_weight
        )
        data.batch_size = max(data.num_samples, 1)
        return epoch_loop.single_batch(self, data, train=True, return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Returns the loss (and metrics) of the model on one batch, without training."""
        self._assert_compiled("test_on_batch")
        data = structures.make_data(self, x, y, sample_weight, None, False, None, "test_on_batch")
        data.batch_size = max(data.num_samples, 1)
        return epoch_loop.single_batch(self, data, train=False, return_dict=return_dict)

    def predict_on_batch(self, x):
        """Returns the model's outputs on one batch as numpy arrays."""
        facts = direct_predict.lookup(self, _builtin_predict)
        if facts is not None:
            outputs = direct_predict.predict(self, facts, x, max(len(x), 1) if type(x) is np.ndarray and x.ndim else 1)
            if outputs is not None:
                return outputs
        data = structures.make_data(self, x, None, None, None, False, None, "predict_on_batch")
        data.batch_size = max(data.num_samples, 1)
        return epoch_loop.predict(self, data, verbose=0, callbacks=None)


def _builtin_predict(cls):
    """Whether `cls` predicts with the built-in step and step composition."""
    return (
        getattr(cls.predict_step, "_builtin_step", False)
        and cls.make_predict_function is Trainer.make_predict_function
    )


# The built-in steps say so, so the loops can tell a user's override without importing Trainer.
for _step in (Trainer.train_step, Trainer.test_step, Trainer.predict_step):
    _step._builtin_step = True
del _step
compiler.disable_when_compiled(Trainer, "get_metrics_result")
