"""The loops behind `fit`, `evaluate` and `predict`: epochs, batches and callback hooks.

The host touches the device's values once per epoch (epoch-end logs) and when a callback asks
for per-batch logs (the progress bar reads them only when it prints).
"""

import torch

from keraslike.graph import nest
from keraslike.trainers import structures


def _callback_list(model, callbacks, verbose, epochs, steps, add_history):
    from keraslike.callbacks import CallbackList

    if callbacks is not None and not isinstance(callbacks, (list, tuple)) and not isinstance(callbacks, CallbackList):
        raise TypeError(f"`callbacks` must be a list of Callback instances. Received: {callbacks!r}")
    if isinstance(callbacks, CallbackList):
        return callbacks
    return CallbackList(
        list(callbacks or []),
        add_history=add_history,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )


def _overrides(model, method):
    from keraslike.trainers.trainer import Trainer

    return getattr(type(model), method) is not getattr(Trainer, method)


def _floats(logs):
    return {k: (v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v) for k, v in logs.items()}


def _place(model, *datasets, build_optimizer=False):
    """Moves the model (if needed) and the data to the training device; readies per-run state."""
    device = model._training_device()
    if any(p.device != device for p in model.parameters()) or any(b.device != device for b in model.buffers()):
        model.to(device)
    for data in datasets:
        if data is not None:
            data.to(device)
    model._prepare_training_state()
    if build_optimizer and not getattr(model.optimizer, "built", False):
        model.optimizer.build(model.trainable_weights)


def fit(model, data, val_data, epochs, verbose, callbacks, class_weight, initial_epoch, validation_freq):
    """Runs the training epochs of `model.fit` and returns the History."""
    _place(model, data, val_data, build_optimizer=True)
    callback_list = _callback_list(model, callbacks, verbose, epochs, data.num_batches, add_history=True)
    batch_logs_needed = callback_list.needs_batch_logs("train")
    was_training = model.training
    model.stop_training = False
    model._initial_epoch = None
    model.train()
    callback_list.on_train_begin()
    start_epoch = model._initial_epoch if model._initial_epoch is not None else initial_epoch
    epoch_logs = {}
    logs = {}
    custom_step = _overrides(model, "train_step")
    try:
        for epoch in range(start_epoch, epochs):
            model._reset_metrics()
            model.train()
            callback_list.on_epoch_begin(epoch)
            for step, (x, ys, sws) in enumerate(data.batches()):
                callback_list.on_train_batch_begin(step)
                batch_size = structures.batch_size(x)
                if step == 0 and epoch == start_epoch:
                    _first_batch_setup(model, x, ys, sws)
                sws = model._class_weighted(ys, sws, class_weight)
                if custom_step:
                    logs = model.train_step(model._user_structures(x, ys, sws))
                    callback_list.on_train_batch_end(step, logs if batch_logs_needed else {})
                else:
                    model._train_step(x, ys, sws, batch_size)
                    callback_list.on_train_batch_end(step, model._metric_tensors() if batch_logs_needed else {})
                if model.stop_training:
                    break
            epoch_logs = _floats(logs if custom_step and isinstance(logs, dict) else model._metric_tensors())  # the one host read of the epoch
            if val_data is not None and _should_validate(epoch, validation_freq):
                # Validation runs `evaluate`'s loop with fit's callbacks, as Keras does: the
                # `on_test_*` hooks fire (TensorBoard and the progress bar rely on them).
                val_logs = _run_evaluation(model, val_data, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        callback_list.on_train_end(epoch_logs)
    finally:
        model.train(was_training)
    return model.history


def _first_batch_setup(model, x, ys, sws):
    """Resolves losses and metrics from the first batch's shapes (and compiles the forward)."""
    with torch.no_grad():
        was = model.training
        model.eval()
        y_pred = structures.flatten_outputs(model, model._forward(x, False))
        model.train(was)
    model._build_compiled_state(ys, y_pred)
    if model.jit_compile and model._compiled_forward is None:
        model._compiled_forward = torch.compile(model._losses_and_outputs)


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _run_evaluation(model, data, callback_list):
    was_training = model.training
    model.eval()
    if callback_list is not None:
        callback_list.on_test_begin()
    model._reset_metrics()
    batch_logs_needed = callback_list is not None and callback_list.needs_batch_logs("test")
    try:
        for step, (x, ys, sws) in enumerate(data.batches()):
            if callback_list is not None:
                callback_list.on_test_batch_begin(step)
            if _overrides(model, "test_step"):
                model.test_step(model._user_structures(x, ys, sws))
            else:
                model._test_step(x, ys, sws, structures.batch_size(x))
            if callback_list is not None:
                callback_list.on_test_batch_end(step, model._metric_tensors() if batch_logs_needed else {})
    finally:
        model.train(was_training)
    logs = _floats(model._metric_tensors())
    if callback_list is not None:
        callback_list.on_test_end(logs)
    return logs


def evaluate(model, data, verbose, callbacks, return_dict):
    """The loop of `model.evaluate`."""
    _place(model, data)
    callback_list = _callback_list(model, callbacks, verbose, 1, data.num_batches, add_history=False)
    logs = _run_evaluation(model, data, callback_list)
    if return_dict:
        return logs
    results = model._ordered_results()
    return results[0] if len(results) == 1 else results


def single_batch(model, data, train, class_weight=None, return_dict=False):
    """One step of `train_on_batch` / `test_on_batch`."""
    _place(model, data, build_optimizer=train)
    model._reset_metrics()
    for x, ys, sws in data.batches():
        if train:
            _first_batch_setup(model, x, ys, sws)
            was = model.training
            model.train()
            try:
                model._train_step(x, ys, model._class_weighted(ys, sws, class_weight), structures.batch_size(x))
            finally:
                model.train(was)
        else:
            was = model.training
            model.eval()
            try:
                model._test_step(x, ys, sws, structures.batch_size(x))
            finally:
                model.train(was)
    if return_dict:
        return _floats(model._metric_tensors())
    results = model._ordered_results()
    return results[0] if len(results) == 1 else results


def predict(model, data, verbose, callbacks):
    """The loop of `model.predict`: outputs concatenated and returned as numpy arrays."""
    _place(model, data)
    callback_list = _callback_list(model, callbacks, verbose, 1, data.num_batches, add_history=False)
    was_training = model.training
    model.eval()
    callback_list.on_predict_begin()
    outputs = None
    structure = None
    try:
        with torch.no_grad(), model._autocast():
            for step, (x, _, _) in enumerate(data.batches()):
                callback_list.on_predict_batch_begin(step)
                y_pred = model._forward(x, False)
                structure = y_pred
                flat = [t.detach() for t in nest.flatten(y_pred)]
                outputs = [[t] for t in flat] if outputs is None else [o + [t] for o, t in zip(outputs, flat)]
                callback_list.on_predict_batch_end(step, {"outputs": y_pred})
    finally:
        model.train(was_training)
    callback_list.on_predict_end()
    if outputs is None:
        raise ValueError("Unexpected result of `predict`: the data produced no batches.")
    arrays = [torch.cat(parts).cpu().numpy() for parts in outputs]
    return nest.pack_like(structure, arrays)
