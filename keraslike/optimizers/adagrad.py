"""Adagrad and Adadelta: per-parameter rates from accumulated squared gradients."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Optimizer that implements the Adagrad algorithm.

    As Keras 3 (epsilon inside the square root):

    ```python
    accumulator = accumulator + g ** 2
    w = w - learning_rate * g / sqrt(accumulator + epsilon)
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        initial_accumulator_value: Float, the starting value of the accumulators.
            Defaults to `0.1`.
        epsilon: Small constant for numerical stability. Defaults to `1e-7`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.Adagrad(learning_rate=0.01)
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `accumulator` slots filled with `initial_accumulator_value`."""
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=float(self.initial_accumulator_value)
        )

    def _update_group(self, group, grads, scalars):
        accumulators = group.take(self._accumulators)
        torch._foreach_addcmul_(accumulators, grads, grads)
        denominators = torch._foreach_add(accumulators, float(self.epsilon))
        torch._foreach_sqrt_(denominators)
        torch._foreach_div_(denominators, -scalars["lr"])
        torch._foreach_addcdiv_(group.variables, grads, denominators)

    def get_config(self):
        config = super().get_config()
        config.update({
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        })
        return config


class Adadelta(Optimizer):
    """Optimizer that implements the Adadelta algorithm (Zeiler, 2012).

    As Keras 3 (note that Keras keeps a `learning_rate`, 0.001 by default, where the paper
    uses 1.0):

    ```python
    accumulated_grad = rho * accumulated_grad + (1 - rho) * g ** 2
    delta = -sqrt(accumulated_delta_var + epsilon) * g / sqrt(accumulated_grad + epsilon)
    accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta ** 2
    w = w + learning_rate * delta
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        rho: Float, the decay rate. Defaults to `0.95`.
        epsilon: Small constant for numerical stability. Defaults to `1e-7`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.Adadelta(learning_rate=1.0)
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `accumulated_grad` and `accumulated_delta_var` slots (interleaved)."""
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )

    def _update_group(self, group, grads, scalars):
        rho, eps = float(self.rho), float(self.epsilon)
        acc_grads = group.take(self._accumulated_grads)
        acc_deltas = group.take(self._accumulated_delta_vars)
        torch._foreach_mul_(acc_grads, rho)
        torch._foreach_addcmul_(acc_grads, grads, grads, value=1 - rho)
        deltas = torch._foreach_add(acc_deltas, eps)  # becomes -delta = rms(dv) * g / rms(g)
        torch._foreach_sqrt_(deltas)
        torch._foreach_mul_(deltas, grads)
        rms_grads = torch._foreach_add(acc_grads, eps)
        torch._foreach_sqrt_(rms_grads)
        torch._foreach_div_(deltas, rms_grads)
        torch._foreach_mul_(acc_deltas, rho)
        torch._foreach_addcmul_(acc_deltas, deltas, deltas, value=1 - rho)
        torch._foreach_mul_(deltas, scalars["lr"])
        torch._foreach_sub_(group.variables, deltas)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
