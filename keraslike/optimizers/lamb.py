"""Lamb: Adam whose step is rescaled per variable by the trust ratio `||w|| / ||update||`."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class Lamb(Optimizer):
    """Optimizer that implements the Lamb algorithm (You et al., 2019), as Keras 3:

    ```python
    m = m + (g - m) * (1 - beta_1)
    v = v + (g**2 - v) * (1 - beta_2)
    update = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
    ratio = ||w|| / ||update||  (1 when either norm is 0)
    w = w - ratio * learning_rate * update
    ```

    The per-variable norms of a step are computed for all variables at once (`_foreach_norm`).

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Float, the decay rate of the first moments. Defaults to `0.9`.
        beta_2: Float, the decay rate of the second moments. Defaults to `0.999`.
        epsilon: Small constant for numerical stability. Defaults to `1e-7`.
        **kwargs: The common optimizer arguments; see `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `momentum` and `velocity` slots, interleaved per variable (as Keras)."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def _prepare_step(self, lr):
        step = self._local_step()
        return {
            "lr": lr,
            "m_scale": 1.0 / (1.0 - torch.pow(float(self.beta_1), step)),
            "v_scale": 1.0 / (1.0 - torch.pow(float(self.beta_2), step)),
        }

    def _update_group(self, group, grads, scalars):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = group.take(self._momentums)
        v = group.take(self._velocities)
        torch._foreach_lerp_(m, grads, 1 - b1)  # m + (g - m) * (1 - beta_1)
        torch._foreach_lerp_(v, torch._foreach_mul(grads, grads), 1 - b2)
        denominators = torch._foreach_mul(v, scalars["v_scale"])
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, float(self.epsilon))
        updates = torch._foreach_mul(m, scalars["m_scale"])
        torch._foreach_div_(updates, denominators)
        w_norms = torch._foreach_norm(group.variables)
        u_norms = torch._foreach_norm(updates)
        ratios = [
            torch.where((w > 0) & (u > 0), w / torch.where(u > 0, u, 1.0), 1.0)
            for w, u in zip(w_norms, u_norms)
        ]
        torch._foreach_mul_(updates, torch._foreach_mul(ratios, scalars["lr"]))
        torch._foreach_sub_(group.variables, updates)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
