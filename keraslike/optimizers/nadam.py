"""Nadam: Adam with Nesterov momentum."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class Nadam(Optimizer):
    """Optimizer that implements the Nadam algorithm (Dozat, 2015).

    As Keras 3, with the momentum schedule `u_t = beta_1 * (1 - 0.5 * 0.96 ** t)` and its
    running product kept in an extra state variable:

    ```python
    t = iterations + 1
    u_t, u_next = beta_1 * (1 - 0.5 * 0.96 ** t), beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    u_product = u_product * u_t
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
    v_hat = v / (1 - beta_2 ** t)
    w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Float, the decay rate of the first-moment estimates. Defaults to `0.9`.
        beta_2: Float, the decay rate of the second-moment estimates. Defaults to `0.999`.
        epsilon: Small constant for numerical stability. Defaults to `1e-7`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.Nadam(learning_rate=0.002)
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `momentum` and `velocity` slots (interleaved), then the scalar running
        product of the momentum schedule, named `variable` as in Keras."""
        if self.built:
            return
        dtype = var_list[0].dtype if var_list else None
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        self._u_product = self.add_variable((), initializer="ones", dtype=dtype, name="variable")

    def _prepare_step(self, lr):
        dtype = self._compute_dtype
        t = self._local_step()
        b1 = float(self.beta_1)
        u_t = (1.0 - 0.5 * torch.pow(0.96, t)) * b1
        u_next = (1.0 - 0.5 * torch.pow(0.96, t + 1)) * b1
        u_product_t = self._u_product.to(dtype) * u_t
        u_product_next = u_product_t * u_next
        self._u_product.copy_(u_product_t)
        return {
            "m_scale": u_next / (1 - u_product_next),
            "g_scale": (1 - u_t) / (1 - u_product_t),
            "v_scale": 1 - torch.pow(float(self.beta_2), t),
            "neg_lr": -lr,
        }

    def _update_group(self, group, grads, scalars):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = group.take(self._momentums)
        v = group.take(self._velocities)
        torch._foreach_mul_(m, b1)
        torch._foreach_add_(m, grads, alpha=1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        m_hat = torch._foreach_mul(m, scalars["m_scale"])
        torch._foreach_add_(m_hat, torch._foreach_mul(grads, scalars["g_scale"]))
        denominators = torch._foreach_div(v, scalars["v_scale"])
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, float(self.epsilon))
        torch._foreach_div_(denominators, scalars["neg_lr"])
        torch._foreach_addcdiv_(group.variables, m_hat, denominators)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
