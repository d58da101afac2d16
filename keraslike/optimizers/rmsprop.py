"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """Optimizer that implements the RMSprop algorithm.

    As Keras 3, with epsilon *inside* the square root (unlike `torch.optim.RMSprop`):

    ```python
    v = rho * v + (1 - rho) * g ** 2
    a = rho * a + (1 - rho) * g                          # centered=True only
    denominator = v - a ** 2 + epsilon                   # v + epsilon when not centered
    increment = learning_rate * g / sqrt(denominator)
    m = momentum * m + increment; w = w - m              # momentum > 0
    w = w - increment                                    # momentum == 0
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        rho: Float, the discounting factor of the moving average of squared gradients.
            Defaults to `0.9`.
        momentum: Float. Defaults to `0.0`.
        epsilon: Small constant for numerical stability. Defaults to `1e-7`.
        centered: Boolean. If `True`, gradients are normalized by their estimated variance
            instead of their second moment. Defaults to `False`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.RMSprop(learning_rate=0.1)
    >>> var = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt.apply([torch.tensor([1.0])], [var])
    >>> var  # 1.0 - 0.1 * 1.0 / sqrt(0.1 + 1e-7) ~= 0.6838
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
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
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        """Creates `velocity` slots, then `momentum` (if momentum > 0), then `average_gradient`
        (if centered) slots, in Keras's order."""
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def _update_group(self, group, grads, scalars):
        rho, lr = float(self.rho), scalars["lr"]
        velocities = group.take(self._velocities)
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        denominators = torch._foreach_add(velocities, float(self.epsilon))
        if self.centered:
            averages = group.take(self._average_gradients)
            torch._foreach_mul_(averages, rho)
            torch._foreach_add_(averages, grads, alpha=1 - rho)
            torch._foreach_addcmul_(denominators, averages, averages, value=-1)
        torch._foreach_sqrt_(denominators)
        if self.momentum > 0:
            torch._foreach_div_(denominators, lr)  # increment = g / (sqrt(.) / lr)
            momentums = group.take(self._momentums)
            torch._foreach_mul_(momentums, float(self.momentum))
            torch._foreach_addcdiv_(momentums, grads, denominators)
            torch._foreach_sub_(group.variables, momentums)
        else:
            torch._foreach_div_(denominators, -lr)
            torch._foreach_addcdiv_(group.variables, grads, denominators)

    def get_config(self):
        config = super().get_config()
        config.update({
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        })
        return config
