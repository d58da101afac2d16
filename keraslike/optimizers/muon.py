"""Muon: orthogonalized momentum for matrices, AdamW for everything else."""

import math
import re

import torch

from keraslike.optimizers.optimizer import Optimizer


def _orthogonalize(x, steps, a, b, c):
    """Newton-Schulz iteration towards the orthogonal factor of `x` (Keras's quintic).

    The iteration commutes with transposition, so it runs on the orientation whose Gram matrix
    is the smaller one (rows <= columns), as Keras does.
    """
    transposed = x.shape[-2] > x.shape[-1]
    if transposed:
        x = x.mT
    x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
    for _ in range(steps):
        gram = x @ x.mT
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.mT if transposed else x


class Muon(Optimizer):
    """Optimizer that implements the Muon algorithm (Jordan et al.; Liu et al., 2025).

    Each 2-D variable (not an embedding, not matched by `exclude_layers`) takes a Muon step:
    SGD momentum whose update is orthogonalized by `ns_steps` Newton-Schulz iterations and scaled
    as in Moonlight. Every other variable (biases, convolution kernels, embeddings, excluded
    layers) takes an AdamW step with `learning_rate * adam_lr_ratio`. As Keras 3:

    ```python
    # Muon variables
    m = momentum * m + g
    u = g + momentum * m if nesterov else m
    w = w - lr * orthogonalize(u) * sqrt(max(rows, cols)) * rms_rate  # no scaling if rms_rate=None
    # AdamW variables: Keras's Adam rule (epsilon added to sqrt(v)), no amsgrad
    ```

    Weight decay before the step is `weight_decay` for Muon variables and `adam_weight_decay`
    for the others (each skipped when `None`). Muon is not meant for embeddings or the output
    layer: pass the output layer's name in `exclude_layers`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        adam_beta_1: Float, Adam's first-moment decay. Defaults to `0.9`.
        adam_beta_2: Float, Adam's second-moment decay. Defaults to `0.999`.
        adam_weight_decay: Float or `None`, the weight decay of the AdamW variables.
            Defaults to `0.004`.
        epsilon: Float, Adam's epsilon. Defaults to `1e-7`.
        weight_decay: Float or `None`, the weight decay of the Muon variables.
            Defaults to `0.004`.
        exclude_layers: List of regex strings; a variable whose path (`dense_1/kernel`)
            matches one takes AdamW steps.
        exclude_embeddings: Boolean. Whether variables whose path contains `embedding` take
            AdamW steps. Defaults to `True`.
        muon_a: Float, Newton-Schulz coefficient a. Defaults to `3.4445`.
        muon_b: Float, Newton-Schulz coefficient b. Defaults to `-4.7750`.
        muon_c: Float, Newton-Schulz coefficient c. Defaults to `2.0315`.
        adam_lr_ratio: Float, the AdamW learning rate as a multiple of `learning_rate`.
            Defaults to `1`.
        momentum: Float, the momentum of Muon's SGD. Defaults to `0.95`.
        ns_steps: Integer, the number of Newton-Schulz iterations. Defaults to `5`.
        nesterov: Boolean, Nesterov momentum. Defaults to `True`.
        rms_rate: Float or `None`, Moonlight's update scale. Defaults to `0.2`.
        **kwargs: The common optimizer arguments; see `Optimizer`.

    Example:

    >>> opt = keras.optimizers.Muon(learning_rate=0.01, exclude_layers=["output"])
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
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
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, index):
        """Whether the variable at `index` takes AdamW steps (decided once, at build)."""
        variable = self._trainable_variables[index]
        if variable.dim() != 2:
            return True
        path = str(getattr(variable, "path", None) or self._reference_names[index])
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, var_list):
        """Creates a `momentum` slot per variable, and a `velocity` slot after it for the
        variables that take AdamW steps (Keras's order)."""
        if self.built:
            return
        super().build(var_list)
        self._adam_flags = [self._should_use_adamw(i) for i in range(len(var_list))]
        self._momentums = []
        self._adam_velocities = []
        for v, adam in zip(var_list, self._adam_flags):
            if id(v) in self._overwritten_ids:  # Keras makes no state for these
                self._momentums.append(None)
                self._adam_velocities.append(None)
                continue
            self._momentums.append(self.add_variable_from_reference(v, "momentum"))
            self._adam_velocities.append(
                self.add_variable_from_reference(v, "velocity") if adam else None)

    def _apply_weight_decay(self, groups, lr):
        # Written as Keras writes it (`w - w * wd * lr`) so the rounding matches too.
        for group in groups:
            for i, v in zip(group.indices, group.variables):
                decay = self.adam_weight_decay if self._adam_flags[i] else self.weight_decay
                if decay is not None and self._use_weight_decay(i):
                    v.sub_(v * decay * self._cast(lr, group))

    def _prepare_step(self, lr):
        t = self._local_step()
        alpha = lr * self.adam_lr_ratio * torch.sqrt(1 - torch.pow(float(self.adam_beta_2), t))
        alpha = alpha / (1 - torch.pow(float(self.adam_beta_1), t))
        return {"lr": lr, "alpha": alpha}

    def _update_group(self, group, grads, scalars):
        adam_vars, adam_grads, adam_m, adam_v = [], [], [], []
        for i, v, g in zip(group.indices, group.variables, grads):
            m = self._momentums[i]
            if self._adam_flags[i]:
                adam_vars.append(v)
                adam_grads.append(g)
                adam_m.append(m)
                adam_v.append(self._adam_velocities[i])
                continue
            m.add_(g + m * (self.momentum - 1))  # m = momentum * m + g, rounded as Keras
            update = g + self.momentum * m if self.nesterov else m
            update = _orthogonalize(update, self.ns_steps, self.muon_a, self.muon_b, self.muon_c)
            update = scalars["lr"] * update
            if self.rms_rate is not None:  # Moonlight's scale, so Adam's lr and decay carry over
                update = update * math.sqrt(max(v.shape)) * self.rms_rate
            v.sub_(update)
        if adam_vars:
            self._adam_update(adam_vars, adam_grads, adam_m, adam_v, scalars["alpha"])

    def _adam_update(self, variables, grads, m, v, alpha):
        """Keras's AdamW step of Muon (no amsgrad), in its rounding order."""
        delta = torch._foreach_sub(grads, m)
        torch._foreach_mul_(delta, 1 - float(self.adam_beta_1))
        torch._foreach_add_(m, delta)
        delta = torch._foreach_mul(grads, grads)
        torch._foreach_sub_(delta, v)
        torch._foreach_mul_(delta, 1 - float(self.adam_beta_2))
        torch._foreach_add_(v, delta)
        denominators = torch._foreach_sqrt(v)
        torch._foreach_add_(denominators, float(self.epsilon))
        steps = torch._foreach_mul(m, alpha)
        torch._foreach_div_(steps, denominators)
        torch._foreach_sub_(variables, steps)

    def get_config(self):
        config = super().get_config()
        config.update({
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        })
        return config
