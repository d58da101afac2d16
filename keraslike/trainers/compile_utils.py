"""What `compile` sets up: per-output losses with weights, per-output metrics, running means.

Losses and metrics are resolved against the first batch's shapes (Keras resolves `"accuracy"`
and `"crossentropy"` from them). Everything accumulates on the device; nothing here reads a
value back to the host.
"""

import torch

from keraslike import losses as losses_module
from keraslike import metrics as metrics_module


class RunningMean:
    """A weighted running mean (Keras's loss tracker): a device tensor total, a host-side count.

    Batch sizes are known on the host, so the count costs no kernel; the total is one fused
    `add_(value, alpha=batch_size)` per step.
    """

    def __init__(self, name):
        self.name = name
        self.total = None
        self.count = 0

    def reset_state(self):
        """Forgets everything seen so far."""
        self.total = None
        self.count = 0

    def update_state(self, value, weight=1):
        """Adds `value` (0-d tensor) counted `weight` times (the batch size)."""
        value = torch.as_tensor(value).detach()
        if self.total is None:
            self.total = value * weight
        else:
            self.total.add_(value, alpha=weight)
        self.count += weight

    def result(self):
        """The mean so far (a 0-d tensor), or 0 before any update."""
        if self.total is None:
            return torch.tensor(0.0)
        return self.total / self.count


def _per_output(spec, output_names, what):
    """Normalizes a compile argument to one entry per output (list, dict, or one for all)."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(
                f"In the dict argument `{what}`, key(s) {unknown} do not correspond to any model "
                f"output. Received: {what}={spec}. Expected keys among the output names {output_names}."
            )
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and what != "metrics":
        if len(spec) != n:
            raise ValueError(
                f"For a model with {n} output(s) {output_names}, `{what}` must have {n} entries. "
                f"Received: {what}={spec}"
            )
        return list(spec)
    return [spec] * n


class CompileLoss:
    """The total loss of a compiled model: weighted per-output losses.

    Args:
        loss: One loss for every output, a list (one per output) or a dict (by output name).
        loss_weights: `None`, a list or a dict of floats, like `loss`.
        output_names: The model's output names, in output order.
        dict_outputs: Whether the model's outputs are a dict (then a loss dict's key order is
            the order in which the per-output losses are reported, as in Keras).
    """

    def __init__(self, loss, loss_weights, output_names, dict_outputs=False):
        self.output_names = list(output_names)
        self.specs = _per_output(loss, self.output_names, "loss")
        weights = _per_output(loss_weights, self.output_names, "loss_weights") if loss_weights is not None else [None] * len(self.output_names)
        self.weights = [1.0 if w is None else float(w) for w in weights]
        for spec in self.specs:
            if spec is not None and not isinstance(spec, str) and not callable(spec) and not isinstance(spec, dict):
                raise ValueError(f"Could not interpret loss identifier: {spec}")
            if isinstance(spec, str) and spec.lower() not in ("crossentropy", "ce"):
                losses_module.get(spec)  # an unknown name fails here, at compile time
        self.losses = None
        # Keras tracks each output's (unweighted) loss only when more than one output has a loss.
        multi = sum(spec is not None for spec in self.specs) > 1
        self.trackers = [
            RunningMean(f"{name}_loss") if multi and spec is not None else None
            for name, spec in zip(self.output_names, self.specs)
        ]
        # Keras's order of the per-output losses (in `evaluate`'s list): a loss dict's key order
        # when the model's outputs are a dict too, else the order of the outputs.
        order = range(len(self.output_names))
        if isinstance(loss, dict) and dict_outputs:
            order = [self.output_names.index(k) for k in loss]
        self.reported_trackers = [self.trackers[i] for i in order if self.trackers[i] is not None]

    def build(self, y_true, y_pred):
        """Resolves each output's loss against the first batch's shapes."""
        self.losses = [
            None if spec is None else losses_module.resolve(spec, t.shape, p.shape)
            for spec, t, p in zip(self.specs, y_true, y_pred)
        ]

    def __call__(self, y_true, y_pred, sample_weights):
        """Returns `(total, per_output)`: the weighted sum and each output's unweighted loss."""
        if self.losses is None:
            self.build(y_true, y_pred)
        total = None
        per_output = []
        for loss, weight, t, p, sw, name in zip(
            self.losses, self.weights, y_true, y_pred, sample_weights, self.output_names
        ):
            if loss is None:
                per_output.append(None)
                continue
            if t is None:
                raise ValueError(f'No target (y) was given for the output "{name}", which has a loss.')
            value = loss(t, p, sample_weight=sw)
            per_output.append(value)
            total = value * weight if total is None else total + value * weight
        return total, per_output

    def update_trackers(self, per_output, batch_size):
        """Updates the per-output loss means (multi-output models only)."""
        for tracker, value in zip(self.trackers, per_output):
            if tracker is not None and value is not None:
                tracker.update_state(value, batch_size)


class CompileMetrics:
    """The metrics of a compiled model, per output, named as Keras names them.

    Args:
        metrics: `None`, a list (applied to the single output, or to every output, or one list per
            output), or a dict by output name.
        weighted_metrics: Same structure; these receive the sample weights.
        output_names: The model's output names.
        losses: The resolved per-output losses (for `"accuracy"` resolution without targets).
    """

    def __init__(self, metrics, weighted_metrics, output_names):
        self.output_names = list(output_names)
        self.specs = self._normalize(metrics, "metrics")
        self.weighted_specs = self._normalize(weighted_metrics, "weighted_metrics")
        for entries in self.specs + self.weighted_specs:
            for entry in entries:
                if isinstance(entry, str) and entry.lower() not in ("accuracy", "acc"):
                    metrics_module.get(entry)  # an unknown name fails here, at compile time
        self.metrics = None  # list of (output index, metric, weighted)

    def _normalize(self, spec, what):
        n = len(self.output_names)
        if spec is None:
            return [[] for _ in range(n)]
        if isinstance(spec, dict):
            per = _per_output(spec, self.output_names, what)
            return [[] if m is None else (list(m) if isinstance(m, (list, tuple)) else [m]) for m in per]
        if not isinstance(spec, (list, tuple)):
            raise TypeError(
                f"Type of `{what}` argument not understood. Expected a list or dictionary, found: {spec}"
            )
        if n > 1 and len(spec) == n and all(isinstance(m, (list, tuple)) or m is None for m in spec):
            return [[] if m is None else list(m) for m in spec]
        return [list(spec) for _ in range(n)]

    def build(self, y_true, y_pred, losses):
        """Resolves every metric against the first batch's shapes, on the outputs' device."""
        multi = len(self.output_names) > 1
        self.metrics = []
        for weighted, specs in ((False, self.specs), (True, self.weighted_specs)):
            for index, entries in enumerate(specs):
                for entry in entries:
                    t, p = y_true[index], y_pred[index]
                    metric = metrics_module.resolve(
                        entry, None if t is None else t.shape, p.shape, loss=losses[index] if losses else None
                    )
                    if multi:
                        metric.name = f"{self.output_names[index]}_{metric.name}"
                    metric.to(p.device)
                    self.metrics.append((index, metric, weighted))

    def update_state(self, y_true, y_pred, sample_weights):
        """Updates every metric with one batch (call under `torch.no_grad()`)."""
        for index, metric, weighted in self.metrics:
            metric.update_state(
                y_true[index], y_pred[index], sample_weight=sample_weights[index] if weighted else None
            )

    def reset_state(self):
        """Resets every metric."""
        for _, metric, _ in self.metrics or ():
            metric.reset_state()
