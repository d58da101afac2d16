"""The loops behind `fit`, `evaluate` and `predict`: epochs, batches and callback hooks.

Each loop composes its step once (`make_train_function` / `make_test_function` /
`make_predict_function`) and calls it on every batch's data, as Keras does. The host touches the
device's values once per epoch (epoch-end logs) and when a callback reads per-batch logs (the
progress bar reads them only when it prints).
"""

import torch

from keraslike.backend.errors import ArgumentAttributeError
from keraslike.callbacks import CallbackList
from keraslike.graph import nest
from keraslike.ops.core import tensor_to_numpy
from keraslike.trainers import distributed, step_state, symbolic_build


def _callback_list(model, callbacks, verbose, epochs, steps, add_history):
    if callbacks is not None and not isinstance(callbacks, (list, tuple)) and not isinstance(callbacks, CallbackList):
        raise ArgumentAttributeError(
            f"`callbacks` must be a list of Callback instances. Received: {callbacks!r}"
        )
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


def _floats(logs):
    """Keras's `pythonify_logs`: nested dicts flattened, keys sorted, scalars as floats."""
    flat = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            flat.update(_floats(value))
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            flat[key] = value.item()
        else:
            flat[key] = value
    return flat


def _overrides(model, method):
    """Whether the model's class replaces the built-in step `method` (marked `_builtin_step`)."""
    return not getattr(getattr(type(model), method), "_builtin_step", False)


def _place(model, *datasets, build_optimizer=False, shard_iterables=True):
    """Moves the model (if needed) and the data to the training device; readies per-run state
    (and, under data parallelism, each rank's share of the data)."""
    if datasets and datasets[0] is not None:
        symbolic_build.build_from_data(model, datasets[0])  # creates deferred weights, then placed
    device = distributed.device() if distributed.active() else model._training_device()
    if any(p.device != device for p in model.parameters()) or any(b.device != device for b in model.buffers()):
        model.to(device)
    for data in datasets:
        if data is not None:
            data.to(device)
    distributed.prepare_model(model)  # ModelParallel: FSDP2 shards the weights (once)
    model._prepare_training_state()
    if distributed.active():
        distributed.shard(*[
            d for d in datasets if d is not None and (shard_iterables or not hasattr(d, "source"))
        ])
    if build_optimizer and model.optimizer is not None and not getattr(model.optimizer, "built", False):
        # Built once on the Keras-facing list: the optimizer keeps the stored weights (the
        # steps pass `_step_state.trainable_weights`, the same tensors) and learns their Keras
        # layouts for `optimizer.variables`.
        model.optimizer.build(model.trainable_weights)


def fit(model, data, val_data, epochs, verbose, callbacks, initial_epoch, validation_freq):
    """Runs the training epochs of `model.fit` and returns the History."""
    _place(model, data, val_data, build_optimizer=True)
    data.begin_loop()
    if distributed.active():
        distributed.wrap_for_training(model, _overrides(model, "train_step"))
    callback_list = _callback_list(model, callbacks, verbose, epochs, data.num_batches, add_history=True)
    train_function = model.make_train_function(force=True)
    was_training = model.training
    model.stop_training = False
    # A checkpoint callback may resume inside the run: it sets these in `on_train_begin`, and
    # reads the data's position (`data.position()`, `data.resume(...)`) through `_fit_data`.
    model._initial_epoch = None
    model._initial_step = 0
    model._fit_data = data
    model.train(step_state.passes_training(model))  # see `passes_training`
    epoch_logs = {}
    try:
        callback_list.on_train_begin()
        start_epoch = model._initial_epoch if model._initial_epoch is not None else initial_epoch
        first_step = model._initial_step or 0
        for epoch in range(start_epoch, epochs):
            model.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            model.train(step_state.passes_training(model))
            model._step_state.refresh(model)  # sees layers (un)frozen by callbacks
            data.set_epoch(epoch)
            logs = {}
            for step, batch in enumerate(data.batches(), start=first_step if epoch == start_epoch else 0):
                callback_list.on_train_batch_begin(step)
                distributed.set_share(model, data)
                logs = train_function(batch)
                callback_list.on_train_batch_end(step, logs)
                if model.stop_training:
                    break
            if getattr(data, "ran_out", False):  # warned there: training stops after this epoch
                model.stop_training = True
                if not logs:
                    break
            # The one host read of the epoch (under data parallelism, of the summed state).
            with distributed.synced_metrics(model):
                epoch_logs = _floats(model._get_metrics_result_or_logs(logs))
            if val_data is not None and _should_validate(epoch, validation_freq):
                # Validation runs `evaluate`'s loop with fit's callbacks, as Keras does: the
                # `on_test_*` hooks fire (TensorBoard and the progress bar rely on them).
                val_logs = _run_evaluation(model, val_data, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            distributed.agree_stop(model)
            if model.stop_training:
                break
        if model.optimizer is not None and epochs > start_epoch:
            model.optimizer.finalize_variable_values(model._step_state.trainable_weights)
        callback_list.on_train_end(epoch_logs)
    finally:
        model._fit_data = None
        model.train(was_training)
    return model.history


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple)):
        return (epoch + 1) in validation_freq
    raise ValueError(
        "Expected `validation_freq` to be a list or int. "
        f"Received: validation_freq={validation_freq} of the type {type(validation_freq)}."
    )


def _run_evaluation(model, data, callback_list):
    """The evaluation loop; returns the logs (Python floats, sorted keys)."""
    data.begin_loop()
    was_training = model.training
    model.eval()
    test_function = model.make_test_function(force=True)
    callback_list.on_test_begin()
    model.reset_metrics()
    logs = {}
    try:
        for step, batch in enumerate(data.batches()):
            callback_list.on_test_batch_begin(step)
            logs = test_function(batch)
            callback_list.on_test_batch_end(step, logs)
    finally:
        model.train(was_training)
    with distributed.synced_metrics(model):
        logs = _floats(model._get_metrics_result_or_logs(logs))
    callback_list.on_test_end(logs)
    return logs


def evaluate(model, data, verbose, callbacks, return_dict):
    """The loop of `model.evaluate`."""
    _place(model, data)
    callback_list = _callback_list(model, callbacks, verbose, 1, data.num_batches, add_history=False)
    logs = _run_evaluation(model, data, callback_list)
    if return_dict:
        return logs
    return model._flatten_metrics_in_order(logs)


def single_batch(model, data, train, return_dict=False):
    """One step of `train_on_batch` / `test_on_batch`."""
    _place(model, data, build_optimizer=train)
    model.reset_metrics()
    function = model.make_train_function(force=True) if train else model.make_test_function(force=True)
    was = model.training
    model.train(train and step_state.passes_training(model))
    logs = {}
    try:
        for batch in data.batches():
            logs = function(batch)
    finally:
        model.train(was)
    logs = _floats(logs)
    if return_dict:
        return logs
    return model._flatten_metrics_in_order(logs)


def predict(model, data, verbose, callbacks):
    """The loop of `model.predict`: outputs concatenated and returned as numpy arrays.

    Under data parallelism, in-memory data is split across the ranks and every rank returns all
    rows in order; an iterable source is predicted whole on every rank.
    """
    _place(model, data, shard_iterables=False)
    callback_list = _callback_list(model, callbacks, verbose, 1, data.num_batches, add_history=False)
    predict_function = model.make_predict_function(force=True)
    was_training = model.training
    model.eval()
    callback_list.on_predict_begin()
    outputs = None
    structure = None
    try:
        for step, batch in enumerate(data.batches()):
            callback_list.on_predict_batch_begin(step)
            y_pred = predict_function(batch)
            structure = y_pred
            flat = [t.detach() for t in nest.flatten(y_pred)]
            outputs = [[t] for t in flat] if outputs is None else [o + [t] for o, t in zip(outputs, flat)]
            callback_list.on_predict_batch_end(step, {"outputs": y_pred})
    finally:
        model.train(was_training)
    callback_list.on_predict_end()
    if outputs is None:
        raise ValueError("Unexpected result of `predict`: the data produced no batches.")
    if distributed.active() and getattr(data, "shard", None) is not None and hasattr(data, "batch_sizes"):
        arrays = [tensor_to_numpy(t) for t in distributed.gather_predictions(data, outputs)]
    else:
        arrays = [tensor_to_numpy(torch.cat(parts)) for parts in outputs]
    return nest.pack_like(structure, arrays)
