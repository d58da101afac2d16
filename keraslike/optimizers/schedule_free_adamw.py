"""Schedule-Free AdamW: interpolation and averaging instead of a learning-rate schedule."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Optimizer that implements Schedule-Free AdamW (Defazio et al., 2024).

    The model variable `y` is an interpolation between the sequence `z` where the Adam-scaled
    gradient steps land (the `momentum` slot, which starts as a copy of the variable) and their
    running average `x` (recovered from `y` and `z`, so it needs no slot). As Keras 3:

    ```python
    t = iterations + 1
    lr_t = learning_rate * min(t / warmup_steps, 1)         # lr_t = learning_rate if no warmup
    v = beta_2 * v + (1 - beta_2) * g ** 2
    z_old, z = z, z - lr_t * g / (sqrt(v / (1 - beta_2 ** t)) + epsilon)
    x = (y - (1 - beta_1) * z_old) / beta_1
    x = (1 - 1 / t) * x + (1 / t) * z
    y = (1 - beta_1) * z + beta_1 * x
    ```

    Keras 3 on its torch backend reads `z_old` after `z` was updated in place (the tensor it
    keeps is the same object), so its numbers there differ from its JAX and TensorFlow ones;
    keraslike computes the rule above, which is Keras's documented one and its JAX numbers.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.0025`.
        beta_1: Float, the interpolation between `z` and `x`. Defaults to `0.9`.
        beta_2: Float, the decay rate of the second-moment estimates. Defaults to `0.999`.
        epsilon: Float, added to the denominator. Defaults to `1e-8`.
        warmup_steps: Integer, the number of steps over which the learning rate rises linearly
            from `learning_rate / warmup_steps` to `learning_rate`. Defaults to `0`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.ScheduleFreeAdamW(learning_rate=0.0025, warmup_steps=100)
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
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
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        """Creates `momentum` (the `z` sequence, a copy of each variable) and `velocity` slots,
        interleaved per variable as Keras."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        with torch.no_grad():
            for z, v in zip(self._momentums, var_list):
                if z is not None:
                    z.copy_(v)

    def _prepare_step(self, lr):
        t = self._local_step()
        if self.warmup_steps > 0:
            lr = lr * torch.clamp(t / float(self.warmup_steps), max=1.0)
        weight = 1.0 / t
        return {
            "neg_lr": -lr,
            "bias_correction_2": 1 - torch.pow(float(self.beta_2), t),
            "one_minus_weight": 1 - weight,
            "weight": weight,
        }

    def _update_group(self, group, grads, scalars):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        y = group.variables
        z = group.take(self._momentums)
        v = group.take(self._velocities)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        denominators = torch._foreach_div(v, scalars["bias_correction_2"])
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, float(self.epsilon))
        x = torch._foreach_mul(z, -(1 - b1))  # -(1 - beta_1) * z_old, before z moves
        torch._foreach_div_(denominators, scalars["neg_lr"])
        torch._foreach_addcdiv_(z, grads, denominators)
        torch._foreach_add_(x, y)
        torch._foreach_div_(x, b1)
        torch._foreach_mul_(x, scalars["one_minus_weight"])
        torch._foreach_add_(x, torch._foreach_mul(z, scalars["weight"]))
        torch._foreach_mul_(x, b1)
        torch._foreach_add_(x, z, alpha=1 - b1)
        torch._foreach_copy_(y, x)

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        })
        return config
