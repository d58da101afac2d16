"""Adafactor: Adam-like steps with factored second moments (a row and a column vector per
matrix instead of a full-size accumulator)."""

import torch

from keraslike.layers.weight_layout import IDENTITY
from keraslike.optimizers.optimizer import Optimizer


def _rms(x):
    return torch.sqrt(torch.mean(torch.square(x)))


class Adafactor(Optimizer):
    """Optimizer that implements the Adafactor algorithm (Shazeer & Stern, 2018), as Keras 3.

    For a variable of rank >= 2, the second moment is factored into row statistics `r` (shape
    `var.shape[:-1]`) and column statistics `c` (`var.shape[:-2] + var.shape[-1:]`); vectors keep
    a full `velocity`. The shapes are those of Keras's layout (a Conv2D kernel's
    `(kh, kw, in, out)`, not its stored `(out, in, kh, kw)`), as in Keras, when the optimizer is
    built on `model.trainable_weights` (as `fit` does); built on `model.parameters()`, the
    stored layout. Each step:

    ```python
    t = iterations + 1
    lr = min(learning_rate, 1 / sqrt(t))       # when relative_step and lr is not a schedule
    alpha = max(epsilon_2, rms(w)) * min(lr, 1 / sqrt(t))
    g2 = g**2 + epsilon_1;  beta = 1 - t**beta_2_decay
    r = beta * r + (1 - beta) * mean(g2, -1);  c = beta * c + (1 - beta) * mean(g2, -2)
    v = (r / mean(r, -1))[..., None] * c[..., None, :]       # (vectors: v = beta v + (1-beta) g2)
    u = g / sqrt(v);  u = u / max(1, rms(u) / clip_threshold)
    w = w - alpha * u
    ```

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_2_decay: Float, the decay exponent of the second moments. Defaults to `-0.8`.
        epsilon_1: Small constant added to the squared gradients. Defaults to `1e-30`.
        epsilon_2: Lower bound of the parameter scale. Defaults to `1e-3`.
        clip_threshold: Threshold of the update's RMS. Defaults to `1.0`.
        relative_step: Whether the learning rate is capped by `1 / sqrt(t)`. Defaults to `True`.
        **kwargs: The common optimizer arguments; see `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, **kwargs,
        )
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        """Creates the factored statistics `r`, `c` (matrices) and the `velocity` slots."""
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        # Per variable: None (a vector), or the layout its factored statistics are taken in
        # (its Keras layout where known; an identity for the stored one).
        self._factored = []
        names = self._reference_names
        for i, (var, name) in enumerate(zip(var_list, names)):
            layout = self._slot_layout_of(i) or IDENTITY
            shape = layout.keras_shape(var.shape)
            if len(shape) < 2:
                self._r.append(self.add_variable((), dtype=var.dtype, name=name))
                self._c.append(self.add_variable((), dtype=var.dtype, name=name))
                self._factored.append(None)
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=name))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype,
                                                 name=name))
                self._factored.append(layout)
            self._v.append(self.add_variable_from_reference(var, name="velocity"))

    def _prepare_step(self, lr):
        step = self._local_step()
        root = 1.0 / torch.sqrt(step)
        if not callable(self._learning_rate) and self.relative_step:
            lr = torch.minimum(lr, root)
        return {
            "lr": lr,
            "rho": torch.minimum(lr, root),
            "beta": 1.0 - torch.pow(step, float(self.beta_2_decay)),
        }

    def _update_group(self, group, grads, scalars):
        rho, beta = scalars["rho"], scalars["beta"]
        eps1, eps2 = float(self.epsilon_1), float(self.epsilon_2)
        clip = float(self.clip_threshold)
        rs, cs, vs = group.take(self._r), group.take(self._c), group.take(self._v)
        layouts = group.take(self._factored)
        for g, w, r, c, v, layout in zip(grads, group.variables, rs, cs, vs, layouts):
            alpha = torch.clamp(_rms(w), min=eps2) * rho
            g2 = torch.square(g) + eps1
            if layout is not None:
                g2_keras = layout.to_keras(g2)  # the axes Keras averages over
                r.lerp_(g2_keras.mean(dim=-1), 1 - beta)  # beta * r + (1 - beta) * mean
                c.lerp_(g2_keras.mean(dim=-2), 1 - beta)
                v.copy_(layout.to_torch(
                    (r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2)))
            else:
                v.lerp_(g2, 1 - beta)
            u = g / torch.sqrt(v)
            u = u / torch.clamp(_rms(u) / clip, min=1.0)
            w.sub_(alpha * u)

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        })
        return config
