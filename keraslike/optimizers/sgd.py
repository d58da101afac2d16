"""Stochastic gradient descent, with optional (Nesterov) momentum."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent (with momentum) optimizer.

    Without momentum: `w = w - learning_rate * g`. With momentum, as Keras 3 (note the sign
    convention, which differs from `torch.optim.SGD`'s buffer):

    ```python
    velocity = momentum * velocity - learning_rate * g
    w = w + velocity                                    # nesterov=False
    w = w + momentum * velocity - learning_rate * g     # nesterov=True
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.01`.
        momentum: Float in `[0, 1]`. Accelerates descent and dampens oscillations.
            Defaults to `0.0`, plain gradient descent.
        nesterov: Boolean. Whether to apply Nesterov momentum. Defaults to `False`.
        **kwargs: The common optimizer arguments (`weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm`, `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps`, `name`); see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> var = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt.apply([torch.tensor([1.0])], [var])
    >>> var  # 1.0 - 0.1 * 1.0
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        if (isinstance(momentum, bool) or not isinstance(momentum, (int, float))
                or momentum < 0 or momentum > 1):
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}"
            )
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        """Creates the `momentum` slots (only when `momentum != 0`)."""
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def _update_group(self, group, grads, scalars):
        step = torch._foreach_mul(grads, scalars["lr"])  # lr * g
        if self.momentum != 0:
            velocities = group.take(self.momentums)
            torch._foreach_mul_(velocities, float(self.momentum))
            torch._foreach_sub_(velocities, step)
            if self.nesterov:
                torch._foreach_sub_(group.variables, step)
                torch._foreach_add_(group.variables, velocities, alpha=float(self.momentum))
            else:
                torch._foreach_add_(group.variables, velocities)
        else:
            torch._foreach_sub_(group.variables, step)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
