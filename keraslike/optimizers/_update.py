"""The update path of `Optimizer`: one step, from gradients to updated variables.

Kept apart from `optimizer.py` (the public API and the hooks subclasses override) so each file
reads in one sitting. Nothing here may sync with the host: no `.item()`, `float(tensor)` or
`int(tensor)`; control flow reads `_host_iterations`, never the device counter.
"""

import torch

from keraslike.backend import config as backend_config
from keraslike.optimizers import _gradients
from keraslike.optimizers.schedules.learning_rate_schedule import LearningRateSchedule


class _Group:
    """The variables of one (device, dtype) among those a step updates."""

    __slots__ = ("device", "dtype", "indices", "positions", "variables", "decayed", "constrained",
                 "_taken")

    def __init__(self, device, dtype):
        self.device, self.dtype = device, dtype
        self.indices, self.positions, self.variables = [], [], []
        self.decayed, self.constrained, self._taken = [], [], {}

    def take(self, slot_list):
        """Returns this group's entries of a per-variable list (cached: slots never move)."""
        key = id(slot_list)
        taken = self._taken.get(key)
        if taken is None:
            taken = self._taken[key] = [slot_list[i] for i in self.indices]
        return taken


class UpdateMixin:
    """Gradient clipping, weight decay, the per-group update loop, EMA and accumulation."""

    @torch.no_grad()
    def _apply_indexed(self, indices, grads):
        """One optimizer step for the variables at `indices`, whose gradients are `grads`."""
        self._maybe_relocate()
        variables = self._trainable_variables
        grads = [g if g.dtype == variables[i].dtype else g.to(variables[i].dtype)
                 for i, g in zip(indices, grads)]
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, float(self.loss_scale_factor))
        # The cache key of the (device, dtype) grouping: None for "every variable, in order".
        key = None if indices == self._all_indices else indices
        steps = self.gradient_accumulation_steps
        if steps:
            accumulators = [self._accumulated_gradients[i] for i in indices]
            if (self._host_iterations + 1) % steps == 0:
                grads = torch._foreach_add(grads, accumulators)
                torch._foreach_div_(grads, float(steps))
                self._update(key, indices, grads)
                torch._foreach_zero_([a for a in self._accumulated_gradients if a is not None])
            else:
                torch._foreach_add_(accumulators, grads)
        else:
            self._update(key, indices, grads)
        if self.use_ema:
            self._update_moving_average()
        self._iterations.add_(1)
        self._host_iterations += 1

    @torch.no_grad()
    def _count_accumulation_step(self):
        """A gradient-accumulation step whose gradients are summed outside the optimizer.

        Under data parallelism the micro-steps before an update run in DDP's `no_sync` and
        leave their (share-weighted) gradients in `.grad`, which the last micro-step's
        reduction sums over the ranks. This counts such a step (and moves the EMA) exactly as
        `apply` does on a step that is not an update step, without touching the accumulators;
        the update step's `apply` then averages the summed gradients (plus whatever the
        accumulators already held) over `gradient_accumulation_steps`.
        """
        steps = self.gradient_accumulation_steps
        if not steps or (self._host_iterations + 1) % steps == 0:
            raise ValueError(
                "`_count_accumulation_step` is only for the steps before an update of an "
                f"optimizer with `gradient_accumulation_steps`. Received: optimizer {self.name} "
                f"with gradient_accumulation_steps={steps} at iteration {self._host_iterations}."
            )
        self._maybe_relocate()
        if self.use_ema:
            self._update_moving_average()
        self._iterations.add_(1)
        self._host_iterations += 1

    def _update(self, key, indices, grads):
        grads = self._clip_gradients(grads)
        lr = self._current_learning_rate()
        groups = self._groups(key, indices)
        self._apply_weight_decay(groups, lr)
        scalars = self._prepare_step(lr.to(self._compute_dtype))
        for group in groups:
            group_scalars = {k: self._cast(s, group) for k, s in scalars.items()}
            self._update_group(group, [grads[p] for p in group.positions], group_scalars)
            for v, constraint in group.constrained:
                v.copy_(constraint(v))

    def _apply_weight_decay(self, groups, lr):
        """Decoupled weight decay before the step: `w *= 1 - lr * weight_decay`."""
        if self.weight_decay is None:
            return
        decay = 1 - lr.to(self._compute_dtype) * self.weight_decay  # 0-d, on the device
        for group in groups:
            if group.decayed:
                torch._foreach_mul_(group.decayed, self._cast(decay, group))

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return _gradients.clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm and self.global_clipnorm > 0:
            return _gradients.clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return _gradients.clip_by_value(grads, self.clipvalue)
        return grads

    def _update_moving_average(self):
        steps = self.gradient_accumulation_steps
        count = self._host_iterations // steps if steps else self._host_iterations
        momentum = float(self.ema_momentum) if count != 0 else 0.0
        for group in self._groups(None, self._all_indices):
            averages = group.take(self._model_variables_moving_average)
            torch._foreach_mul_(averages, momentum)
            torch._foreach_add_(averages, group.variables, alpha=1.0 - momentum)
            if self.ema_overwrite_frequency and (count + 1) % self.ema_overwrite_frequency == 0:
                torch._foreach_copy_(group.variables, averages)

    @property
    def _compute_dtype(self):
        """The dtype per-step scalars are computed in: float32, or float64 for float64 models."""
        if self._trainable_variables and self._trainable_variables[0].dtype == torch.float64:
            return torch.float64
        return torch.float32

    def _cast(self, scalar, group):
        if scalar.device == group.device and scalar.dtype == group.dtype:
            return scalar
        # Only across devices (model parallel); a copy to the CPU must block to be correct.
        return scalar.to(device=group.device, dtype=group.dtype,
                         non_blocking=group.device.type != "cpu")

    def _current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, torch.Tensor):
            return lr
        value = lr(self._iterations) if isinstance(lr, LearningRateSchedule) else lr()
        if not isinstance(value, torch.Tensor):
            # torch.full launches a fill kernel: unlike torch.tensor, no host-to-device copy.
            return torch.full((), float(value), dtype=getattr(torch, backend_config.floatx()),
                              device=self._state_device)
        return value

    def _groups(self, key, indices):
        groups = self._group_cache.get(key)
        if groups is None:
            if len(self._group_cache) > 64:  # gradients present on ever-changing subsets
                self._group_cache.clear()
            groups = self._group_cache[key] = self._make_groups(indices)
        return groups

    def _make_groups(self, indices):
        by_kind = {}
        for position, i in enumerate(indices):
            v = self._trainable_variables[i]
            group = by_kind.get((v.device, v.dtype))
            if group is None:
                group = by_kind[(v.device, v.dtype)] = _Group(v.device, v.dtype)
            group.indices.append(i)
            group.positions.append(position)
            group.variables.append(v)
            if self.weight_decay is not None and self._use_weight_decay(i):
                group.decayed.append(v)
            constraint = getattr(v, "constraint", None)
            if callable(constraint):
                group.constrained.append((v, constraint))
        return list(by_kind.values())

    def _use_weight_decay(self, index):
        v = self._trainable_variables[index]
        if id(v) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None:
            # Keras matches the variable's short name (`kernel`), not its path (`dense/kernel`).
            path = getattr(v, "path", None)
            name = str(path).split("/")[-1] if path else self._reference_names[index]
            if self._exclude_pattern.search(str(name)) is not None:
                return False
        return True

    def _maybe_relocate(self):
        """Follows the model to a new device (`model.to("cuda")` after building)."""
        variables = self._trainable_variables
        if variables and variables[0].device != self._state_device:
            self._relocate()
