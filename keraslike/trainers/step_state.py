"""What the training steps read, gathered once per `fit`/`evaluate`/`predict` (and refreshed at
each epoch start) instead of walking the module tree every step.

- the trainable weights (`model._stored_trainable_weights()`, in torch's layouts; a callback
  that (un)freezes layers at an epoch boundary is seen from the next epoch on, and a weight the
  optimizer was not built with makes `optimizer.apply` raise, as in Keras);
- the weights with constraints and with regularizers;
- mixed precision: the autocast dtype of the model's dtype policies and float16 loss scaling;
- whether the model call can run the execution plan directly (a graph model whose call, forward
  and `__call__` are keraslike's, with no torch hooks on the model itself).
"""

import contextlib
import warnings

import torch

from keraslike.graph import hook_registry, nest
from keraslike.layers.layer import Layer, _call_signature
from keraslike.optimizers.loss_scale_optimizer import LossScaleOptimizer


class StepState:
    """Per-run facts the training steps use (see the module docstring)."""

    def __init__(self, model):
        self.trainable_weights = []
        self.constrained = []
        self.regularized = []
        self.direct_plan = False
        self.autocast_dtype = None
        self.autocast_device = "cpu"
        self.ddp = None  # DistributedDataParallel wrapper of the model (data-parallel fit)
        self.share = None  # this rank's share of the current global batch (for the reduction)
        self.micro_step = None  # replaces backward_and_apply (accumulation under DDP)
        self.refresh(model)

    def refresh(self, model):
        """Re-reads the trainable weights, constraints, regularizers and call path."""
        regularized, constrained = [], []
        for module in model.modules():
            if not isinstance(module, Layer):
                continue
            for spec in module._weight_specs:
                if spec.regularizer is None and spec.constraint is None:
                    continue
                tensor = module._find_tensor(spec.attr)
                if spec.regularizer is not None and tensor.requires_grad:  # trainable only, as Keras
                    regularized.append((spec, tensor))
                if spec.constraint is not None:
                    constrained.append((spec, tensor))
        self.regularized = regularized
        self.constrained = constrained
        self.trainable_weights = model._stored_trainable_weights()
        self.direct_plan = _plan_is_the_call(model)
        mixed = {m._dtype_policy_name for m in model.modules() if isinstance(m, Layer)}
        mixed = sorted(name for name in mixed if name.startswith("mixed_"))
        self.autocast_dtype = getattr(torch, mixed[0].split("_", 1)[1]) if mixed else None
        self.autocast_device = model._training_device().type
        # float16 losses are scaled here unless the user's optimizer is a LossScaleOptimizer
        # (Keras wraps the optimizer in one; scaling twice would overflow float16).
        self.scales_loss = self.autocast_dtype is torch.float16 and not isinstance(
            getattr(model, "optimizer", None), LossScaleOptimizer)
        if self.scales_loss and getattr(model, "_loss_scale", None) is None:
            model._loss_scale = 2.0**15  # Keras's LossScaleOptimizer initial scale
            model._good_steps = 0

    def autocast(self):
        """The autocast context of the model's mixed-precision policy (or a null context)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.autocast_device, dtype=self.autocast_dtype)

    def regularization_losses(self):
        """The weight penalties, computed now from the current weights."""
        return [spec.regularizer(spec.layout.to_keras(tensor)) for spec, tensor in self.regularized]

    def apply_constraints(self):
        """Projects the constrained weights after an optimizer step (Keras applies constraints
        right after each update)."""
        if not self.constrained:
            return
        with torch.no_grad():
            for spec, tensor in self.constrained:
                tensor.copy_(spec.layout.to_torch(spec.constraint(spec.layout.to_keras(tensor))))


def _from_keraslike(function):
    return getattr(function, "__module__", "").startswith("keraslike.")


def _plan_is_the_call(model):
    """Whether `model(x, training=t)` is exactly running its execution plan on `x`."""
    if getattr(model, "_plan", None) is None:
        return False
    cls = type(model)
    return (
        _from_keraslike(cls.call)
        and _from_keraslike(cls.forward)
        and _from_keraslike(cls.__call__)
        and getattr(model, "activity_regularizer", None) is None
    )


def passes_training(model):
    """Whether the built-in steps give the model `training=` (Keras's `_call_has_training_arg`).

    Keras's `train_step` / `test_step` / `predict_step` call `self(x, training=...)` only when
    the model's `call` takes `training`; otherwise `self(x)`, and every layer inside runs with
    its own default (Dropout and BatchNormalization in inference mode, also in `fit`; random
    augmentation layers active, also in `evaluate`). Graph models and Sequential take it; a
    subclassed model takes it when its `call` declares it.
    """
    if getattr(model, "_is_graph_network", False):
        return True
    call = type(model).call
    if call.__module__.startswith("keraslike.models"):
        return call.__qualname__ != "Model.call"  # Keras's base `Model.call` takes none
    return _call_signature(type(model))[0]


def call_model(model, x, training):
    """`model(x, training=training)`: runs the plan directly when that is all the call would do.

    The plan is run directly for graph models with no hooks on the model itself and the module
    mode already equal to `training` (the loops set it), which saves the per-call argument
    handling; anything else goes through the model's `__call__`.
    """
    state = getattr(model, "_step_state", None)
    if training and state is not None and state.ddp is not None:
        # Data parallelism: gradients synchronized by DDP (`training` given as Keras gives it).
        return state.ddp(x, training=True) if passes_training(model) else state.ddp(x)
    if (
        state is not None
        and state.direct_plan
        and model.training == bool(training)
        and not (model._forward_hooks or model._forward_pre_hooks or model._backward_hooks)
        and not hook_registry.global_hooks_active()
    ):
        if type(x) is torch.Tensor:
            flat = [x]
        elif isinstance(x, dict):
            struct = model._inputs_struct  # a dict of Inputs takes its keys, else input names
            if isinstance(struct, dict):
                flat = nest.flatten({k: x[k] for k in struct}) if all(k in x for k in struct) else None
            else:
                names = model.input_names
                flat = [x[name] for name in names] if all(n in x for n in names) else None
        elif isinstance(x, (list, tuple)):
            flat = list(x)
        else:
            flat = None
        if flat is not None and len(flat) == len(model._flat_inputs):
            results = model._plan.run(flat, training)
            if model._single_output:
                return results[0]
            return nest.pack_like(model._outputs_struct, results)
    if not passes_training(model):
        return model(x)  # as Keras: the layers' own defaults (the loops set the module to eval)
    return model(x, training=training)


def backward_and_apply(model, loss, weights):
    """`loss.backward()`, then `optimizer.apply(grads, weights)` (with float16 loss scaling when
    the model's policy is `mixed_float16`), then the weight constraints."""
    state = model._step_state
    if state.micro_step is not None:
        return state.micro_step(model, loss, weights)
    optimizer = model.optimizer
    for v in weights:
        v.grad = None
    if state.scales_loss and getattr(model, "_loss_scale", None) is not None:
        _scaled_backward_and_apply(model, loss, weights)
    else:
        loss.backward()
        with torch.no_grad():
            optimizer.apply([v.grad for v in weights], weights)
    state.apply_constraints()


def _scaled_backward_and_apply(model, loss, weights):
    """float16 training: dynamic loss scaling (one host read per step, as GradScaler does)."""
    (loss * model._loss_scale).backward()
    grads = [v.grad for v in weights if v.grad is not None]
    for g in grads:
        g.div_(model._loss_scale)
    finite = bool(torch.stack([g.isfinite().all() for g in grads]).all()) if grads else True
    if not finite:
        for v in weights:
            v.grad = None
        model._loss_scale /= 2.0
        model._good_steps = 0
        return
    with torch.no_grad():
        model.optimizer.apply([v.grad for v in weights], weights)
    model._good_steps += 1
    if model._good_steps >= 2000:
        model._loss_scale *= 2.0
        model._good_steps = 0


def warn_no_trainable_weights():
    warnings.warn("The model does not have any trainable weights.", stacklevel=3)
