"""LossScaleOptimizer: dynamic loss scaling around another optimizer (float16 training)."""

import torch

from keraslike.optimizers import _serialization
from keraslike.optimizers.optimizer import Optimizer

_INNER = "inner_optimizer/"  # prefix of the wrapped optimizer's names in `get_slot_state()`


class _Unscaled:
    """Gradients divided by the scale, and whether they were all finite (read on the host)."""

    def __init__(self, grads, finite):
        self.grads, self.finite = grads, finite


def _unscale(grads, scale):
    """`g / scale` for each gradient (new tensors: the caller's stay as they are) and their
    finiteness, with torch's fused check (the one `torch.amp.GradScaler` uses) per dtype."""
    if not grads:
        return _Unscaled(grads, True)
    out = [None] * len(grads)
    found_inf = torch.zeros((), dtype=torch.float32, device=grads[0].device)
    by_kind = {}
    for i, g in enumerate(grads):
        by_kind.setdefault((g.device, g.dtype), []).append(i)
    for (device, dtype), indices in by_kind.items():
        divided = torch._foreach_div([grads[i] for i in indices], scale.to(device, dtype))
        flag = found_inf if device == found_inf.device else torch.zeros_like(found_inf,
                                                                             device=device)
        # Multiplying by exactly 1 leaves the values as Keras's division made them.
        torch._amp_foreach_non_finite_check_and_unscale_(
            divided, flag, torch.ones((), dtype=torch.float32, device=device))
        if flag is not found_inf:
            found_inf += flag.to(found_inf.device)
        for i, g in zip(indices, divided):
            out[i] = g
    return _Unscaled(out, not bool(found_inf))


class LossScaleOptimizer(Optimizer):
    """An optimizer that dynamically scales the loss to prevent float16 gradient underflow.

    Multiply the loss by the scale (`scale_loss(loss)`, which `fit` calls) before
    `backward()`; `apply` divides the gradients by it and hands them to the wrapped optimizer.
    As Keras 3:

    - a step whose gradients are not all finite is skipped (the wrapped optimizer does not
      move, not even its step count) and the scale is halved;
    - after `dynamic_growth_steps` consecutive finite steps the scale is doubled.

    Deciding to skip a step needs the finiteness of the gradients on the host: `apply` reads one
    boolean per step, as `torch.amp.GradScaler` does. The scale and counter stay on the device.

    Args:
        inner_optimizer: The `keras.optimizers.Optimizer` instance to wrap.
        initial_scale: Float, the initial loss scale. Defaults to `2.0 ** 15`.
        dynamic_growth_steps: Int, the number of finite steps after which the scale doubles.
            Defaults to `2000`.
        name: String, the optimizer's name.
        **kwargs: Only the common optimizer arguments at their defaults are accepted (set
            clipping, EMA, ... on the inner optimizer instead); `dynamic=False` is refused.

    Example:

    >>> opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(), initial_scale=1024.0)
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        defaults = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                    "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                    "ema_overwrite_frequency": None, "loss_scale_factor": None,
                    "gradient_accumulation_steps": None}
        for arg, default in defaults.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the "
                    "`inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer's `inner_optimizer` must be a keras.optimizers.Optimizer. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list):
        """Creates `step_counter` and `dynamic_scale`, then builds the wrapped optimizer."""
        if self.built:
            return
        super().build(var_list)
        self.step_counter = self.add_variable((), "zeros", dtype=torch.int64, name="step_counter")
        self.dynamic_scale = self.add_variable((), float(self.initial_scale), dtype=torch.float32,
                                               name="dynamic_scale")
        self.inner_optimizer.build(var_list)

    def _learn_keras_layouts(self, pairs):
        pairs = list(pairs)
        super()._learn_keras_layouts(pairs)
        self.inner_optimizer._learn_keras_layouts(pairs)

    @property
    def variables(self):
        """This optimizer's state, then the wrapped optimizer's (Keras's order)."""
        return self._variables[:] + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        """The wrapped optimizer's learning rate."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        """The wrapped optimizer's step count (skipped steps do not count)."""
        return self.inner_optimizer.iterations

    @torch.no_grad()
    def apply(self, grads, trainable_variables=None):
        """Unscales the gradients and applies them with the wrapped optimizer, or skips the
        step and halves the scale when one of them is not finite.

        Args:
            grads: A list of gradient tensors (or `None`s), of the scaled loss.
            trainable_variables: The variables they belong to; `None` means the list the
                optimizer was built with.
        """
        grads = list(grads)
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            self.build(list(trainable_variables))
        positions = [i for i, g in enumerate(grads) if g is not None]
        unscaled = _unscale([grads[i] for i in positions], self.dynamic_scale)
        if not unscaled.finite:  # the one host read per step (skipping needs it, as GradScaler's)
            self.step_counter.zero_()
            self.dynamic_scale.mul_(0.5)
            return
        for i, g in zip(positions, unscaled.grads):
            grads[i] = g
        self.inner_optimizer.apply(grads, trainable_variables)
        scale = self.dynamic_scale
        grow = self.step_counter == self.dynamic_growth_steps - 1
        self.dynamic_scale.copy_(torch.where(grow, scale * 2.0, scale))
        self.step_counter.copy_(torch.where(grow, 0, self.step_counter + 1))

    @torch.no_grad()
    def step(self, closure=None):
        """Applies each built variable's `.grad` (PyTorch style); see `Optimizer.step`."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self.built:
            raise ValueError(
                "`optimizer.step()` needs the variables to update: call "
                "`optimizer.build(list(model.parameters()))` first."
            )
        pairs = [(v.grad, v) for v in self._trainable_variables if v.grad is not None]
        if pairs:
            self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return loss

    def scale_loss(self, loss):
        """Multiplies the loss by the current scale (the initial one before building)."""
        scale = self.dynamic_scale if self.built else self.initial_scale
        return loss * scale

    def finalize_variable_values(self, var_list):
        """The wrapped optimizer's `finalize_variable_values` (EMA)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    # ----------------------------------------------------------------- state and config

    def get_slot_state(self):
        """This optimizer's state by name, then the wrapped one's as `inner_optimizer/<name>`."""
        state = super().get_slot_state()
        state.update({_INNER + k: v for k, v in self.inner_optimizer.get_slot_state().items()})
        return state

    def set_slot_state(self, state, strict=True):
        """Loads what `get_slot_state()` returned; see `Optimizer.set_slot_state`."""
        own = {k: v for k, v in state.items() if not k.startswith(_INNER)}
        inner = {k[len(_INNER):]: v for k, v in state.items() if k.startswith(_INNER)}
        super().set_slot_state(own, strict=strict)
        self.inner_optimizer.set_slot_state(inner, strict=strict)

    def _keras_state(self):
        return super()._keras_state() + self.inner_optimizer._keras_state()

    def set_weights(self, weights):
        """Sets the state from a list of arrays in `variables` order (own, then wrapped)."""
        weights = list(weights)
        count = len(self._variables)
        super().set_weights(weights[:count])
        self.inner_optimizer.set_weights(weights[count:])

    def get_config(self):
        return {
            "name": self.name,
            "inner_optimizer": _serialization.serialize_inner(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = _serialization.deserialize_inner(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)
