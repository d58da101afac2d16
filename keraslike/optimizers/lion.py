"""Lion: sign-based updates with two momentum rates."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Optimizer that implements the Lion algorithm (Chen et al., 2023).

    As Keras 3:

    ```python
    w = w - learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
    m = beta_2 * m + (1 - beta_2) * g
    ```

    Lion's sign updates are larger than Adam's: a learning rate 3-10x smaller than Adam's is
    typical.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Float in `(0, 1]`, the rate to combine the gradient and the momentum for the
            update. Defaults to `0.9`.
        beta_2: Float, the decay rate of the momentum. Defaults to `0.99`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.Lion(learning_rate=1e-4)
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )

    def build(self, var_list):
        """Creates the `momentum` slots."""
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def _update_group(self, group, grads, scalars):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = group.take(self._momentums)
        updates = torch._foreach_mul(m, b1)
        torch._foreach_add_(updates, grads, alpha=1 - b1)
        torch._foreach_sign_(updates)
        torch._foreach_mul_(updates, scalars["lr"])
        torch._foreach_sub_(group.variables, updates)
        torch._foreach_mul_(m, b2)
        torch._foreach_add_(m, grads, alpha=1 - b2)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
