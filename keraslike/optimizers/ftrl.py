"""Ftrl: Follow The Regularized Leader, with L1, L2 and L2-shrinkage regularization."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """Optimizer that implements the FTRL algorithm (McMahan et al., 2013), as Keras 3:

    ```python
    l2 = l2_regularization_strength + beta / (2 * learning_rate)
    g_shrunk = g + 2 * l2_shrinkage_regularization_strength * w
    new_accum = accum + g**2
    linear += g_shrunk - (new_accum**-p - accum**-p) / learning_rate * w
    quadratic = new_accum**-p / learning_rate + 2 * l2
    w = (clip(linear, -l1, l1) - linear) / quadratic
    accum = new_accum
    ```
    with `p = learning_rate_power`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        learning_rate_power: Float `<= 0`, how the learning rate decays (`-0.5`: as `1/sqrt`).
        initial_accumulator_value: Starting value of the accumulators (`>= 0`). Defaults to 0.1.
        l1_regularization_strength: Float `>= 0`. Defaults to 0.
        l2_regularization_strength: Float `>= 0` (stabilization penalty). Defaults to 0.
        l2_shrinkage_regularization_strength: Float `>= 0` (magnitude penalty). Defaults to 0.
        beta: Float, the beta of the per-coordinate learning rate. Defaults to 0.
        **kwargs: The common optimizer arguments; see `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        checks = (
            ("initial_accumulator_value", initial_accumulator_value, "positive or zero", lambda x: x < 0.0),
            ("learning_rate_power", learning_rate_power, "negative or zero", lambda x: x > 0.0),
            ("l1_regularization_strength", l1_regularization_strength, "positive or zero", lambda x: x < 0.0),
            ("l2_regularization_strength", l2_regularization_strength, "positive or zero", lambda x: x < 0.0),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
             "positive or zero", lambda x: x < 0.0),
        )
        for arg, value, wanted, bad in checks:
            if bad(value):
                raise ValueError(f"`{arg}` needs to be {wanted}. Received: {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        """Creates `accumulator` (filled with `initial_accumulator_value`) and `linear` slots."""
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"],
            initializer=[float(self.initial_accumulator_value), "zeros"],
        )

    def _update_group(self, group, grads, scalars):
        lr = scalars["lr"]
        power = -float(self.learning_rate_power)
        l1 = float(self.l1_regularization_strength)
        l2 = float(self.l2_regularization_strength) + float(self.beta) / (2.0 * lr)
        shrinkage = 2 * float(self.l2_shrinkage_regularization_strength)
        accum = group.take(self._accumulators)
        linear = group.take(self._linears)
        variables = group.variables
        shrunk = torch._foreach_add(grads, variables, alpha=shrinkage) if shrinkage else grads
        new_accum = torch._foreach_addcmul(accum, grads, grads)
        if power == 0.5:  # the default: sqrt is one cheap kernel
            new_power = torch._foreach_sqrt(new_accum)
            sigma = torch._foreach_sub(new_power, torch._foreach_sqrt(accum))
        else:
            new_power = torch._foreach_pow(new_accum, power)
            sigma = torch._foreach_sub(new_power, torch._foreach_pow(accum, power))
        torch._foreach_div_(sigma, lr)
        torch._foreach_add_(linear, shrunk)
        torch._foreach_sub_(linear, torch._foreach_mul(sigma, variables))
        quadratic = torch._foreach_div(new_power, lr)
        torch._foreach_add_(quadratic, 2 * l2)
        clipped = torch._foreach_clamp_min(linear, -l1)
        torch._foreach_clamp_max_(clipped, l1)
        torch._foreach_sub_(clipped, linear)
        torch._foreach_div_(clipped, quadratic)
        torch._foreach_copy_(variables, clipped)
        torch._foreach_copy_(accum, new_accum)

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        })
        return config
