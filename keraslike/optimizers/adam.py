"""Adam and AdamW, with Keras 3's placement of epsilon."""

import torch

from keraslike.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Optimizer that implements the Adam algorithm.

    As Keras 3: epsilon is added to `sqrt(v)` and the bias corrections are folded into the
    step size (`torch.optim.Adam` adds epsilon to the bias-corrected `sqrt(v_hat)` instead):

    ```python
    t = iterations + 1
    alpha = learning_rate * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    v_hat = max(v_hat, v)                                # amsgrad=True only; then v = v_hat
    w = w - alpha * m / (sqrt(v) + epsilon)
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Float, the decay rate of the first-moment estimates. Defaults to `0.9`.
        beta_2: Float, the decay rate of the second-moment estimates. Defaults to `0.999`.
        epsilon: Small constant for numerical stability ("epsilon hat" of Kingma & Ba).
            Defaults to `1e-7`.
        amsgrad: Boolean. Whether to apply the AMSGrad variant. Defaults to `False`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.Adam(learning_rate=0.1)
    >>> var = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt.apply([torch.tensor([1.0])], [var])
    >>> var  # ~0.9 (the first Adam step moves each weight by about learning_rate)
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        self.amsgrad = amsgrad

    def build(self, var_list):
        """Creates `momentum` and `velocity` slots (interleaved per variable, as Keras), then
        `velocity_hat` slots when `amsgrad=True`."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _prepare_step(self, lr):
        t = self._local_step()
        beta_1_power = torch.pow(float(self.beta_1), t)
        beta_2_power = torch.pow(float(self.beta_2), t)
        alpha = lr * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        return {"lr": lr, "neg_alpha": -alpha}

    def _update_group(self, group, grads, scalars):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = group.take(self._momentums)
        v = group.take(self._velocities)
        torch._foreach_mul_(m, b1)
        torch._foreach_add_(m, grads, alpha=1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        if self.amsgrad:
            v_hat = group.take(self._velocity_hats)
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, float(self.epsilon))
        # w += m / (denominator / -alpha) is w -= alpha * m / denominator with one temporary.
        torch._foreach_div_(denominators, scalars["neg_alpha"])
        torch._foreach_addcdiv_(group.variables, m, denominators)

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        })
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter).

    Before each Adam step, every variable not excluded with `exclude_from_weight_decay()` is
    scaled: `w = w * (1 - weight_decay * learning_rate)`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        weight_decay: Float. Defaults to `0.004` (it may not be `None`).
        beta_1: Float. Defaults to `0.9`.
        beta_2: Float. Defaults to `0.999`.
        epsilon: Float. Defaults to `1e-7`.
        amsgrad: Boolean. Defaults to `False`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.01)
    >>> opt.exclude_from_weight_decay(var_names=["bias"])
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
