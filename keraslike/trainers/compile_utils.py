"""What `compile` sets up: per-output losses with weights, per-output metrics, running means.

Losses and metrics are resolved against the first batch's shapes (Keras resolves `"accuracy"`
and `"crossentropy"` from them). Everything accumulates on the device; nothing here reads a
value back to the host.
"""

import torch

from keraslike import losses as losses_module
from keraslike import metrics as metrics_module
from keraslike.backend import compiler
from keraslike.graph.plan import with_mask_of
from keraslike.trainers import structures


class RunningMean:
    """A weighted running mean (Keras's loss tracker, a `Mean` metric): a device tensor total and
    a host-side count.

    Batch sizes are known on the host, so the count costs no kernel; the total is one fused
    `add_(value, alpha=weight)` per step. It has a metric's interface (`name`, `update_state`,
    `result`, `reset_state`, `variables`), so custom `train_step`s can drive it as in Keras.
    """

    def __init__(self, name):
        self.name = name
        self.total = None
        self.count = 0

    @property
    def variables(self):
        """The state (the running total), as a list."""
        return [] if self.total is None else [self.total]

    def reset_state(self):
        """Forgets everything seen so far."""
        self.total = None
        self.count = 0

    def update_state(self, values, sample_weight=None):
        """Adds the mean of `values` (a 0-d tensor in the training step), counted
        `sample_weight` times (the batch size; a Python number)."""
        value = torch.as_tensor(values).detach()
        if value.ndim:
            value = value.float().mean()
        weight = 1 if sample_weight is None else sample_weight
        if isinstance(weight, torch.Tensor):
            weight = weight.sum().item() if weight.ndim else weight.item()  # rare: a tensor weight
        if not weight:
            return  # an empty batch (a rank's empty share of a short last batch) adds nothing
        if self.total is None:
            self.total = value * weight
        else:
            self.total.add_(value, alpha=weight)
        self.count += weight

    def result(self):
        """The mean so far (a 0-d tensor), or 0 before any update."""
        if self.total is None or not self.count:
            return torch.tensor(0.0)
        return self.total / self.count

    def __repr__(self):
        return f"<Mean name={self.name}>"


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


compiler.disable_when_compiled(RunningMean, "update_state")


class CompileLoss:
    """The compiled loss of a model: weighted per-output losses (Keras's `CompileLoss`).

    Called as Keras calls it, `compile_loss(y_true, y_pred, sample_weight)`, with targets,
    outputs and sample weights in the structures the data and the model use (one tensor, a
    list, or a dict by output name). Each output's unweighted loss is tracked by a running
    mean named `"<output>_loss"` when more than one output has a loss, as in Keras.

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
        self.with_loss = [i for i, spec in enumerate(self.specs) if spec is not None]
        self.losses = None
        # Keras tracks each output's (unweighted) loss only when more than one output has a loss,
        # and reports them in output order (whatever the order of a loss dict's keys).
        multi = len(self.with_loss) > 1
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

    @property
    def metrics(self):
        """The per-output loss trackers, in reporting order (empty for a single loss)."""
        return list(self.reported_trackers)

    @property
    def built(self):
        return self.losses is not None

    def build(self, y_true, y_pred):
        """Resolves each output's loss against the first batch's shapes (flat per-output lists)."""
        for spec, t, name in zip(self.specs, y_true, self.output_names):
            if spec is not None and t is None:
                raise ValueError(f'No target (y) was given for the output "{name}", which has a loss.')
            if isinstance(t, (list, tuple, dict)):  # Keras: "y_true and y_pred have different structures"
                raise ValueError(
                    f"y_true and y_pred have different structures: the target of output "
                    f'"{name}" is a {type(t).__name__} of {len(t)} entries, the model has the '
                    f"outputs {self.output_names}."
                )
        self.losses = [
            None if spec is None else losses_module.resolve(spec, t.shape, p.shape)
            for spec, t, p in zip(self.specs, y_true, y_pred)
        ]

    def flatten(self, y_true, y_pred, sample_weight):
        """Per-output lists `(targets, outputs, sample_weights)` from the structured values."""
        names = self.output_names
        return (
            structures.split_targets(names, y_true, self.with_loss),
            structures.split_outputs(names, y_pred),
            structures.split_sample_weights(names, sample_weight),
        )

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Returns the weighted sum of the per-output losses (`None` when no output has one)."""
        ys, preds, sws = self.flatten(y_true, y_pred, sample_weight)
        if self.losses is None:
            self.build(ys, preds)
        total = None
        for loss, weight, t, p, sw, name, tracker in zip(
            self.losses, self.weights, ys, preds, sws, self.output_names, self.trackers
        ):
            if loss is None:
                continue
            if t is None:
                raise ValueError(f'No target (y) was given for the output "{name}", which has a loss.')
            value = loss(t, p, sample_weight=sw)
            if tracker is not None:
                tracker.update_state(value, sample_weight=structures.batch_size(p))
            total = value * weight if total is None else total + value * weight
        return total

    def reset_state(self):
        """Resets the per-output loss trackers."""
        for tracker in self.reported_trackers:
            tracker.reset_state()


def _result_name(base, prefix, weighted, taken):
    """Keras's unique result names: a repeated name gets `_1`, `_2`...; a weighted metric whose
    name is taken becomes `weighted_<name>` (so `metrics=["accuracy"]` with
    `weighted_metrics=["accuracy"]` logs `accuracy` and `weighted_accuracy`)."""
    name = prefix + base
    if name in taken and weighted:
        name = f"{prefix}weighted_{base}"
    if name not in taken:
        taken[name] = 1
        return name
    count = taken[name]
    taken[name] += 1
    return f"{name}_{count}"


class CompileMetrics:
    """The metrics of a compiled model, per output, named as Keras names them.

    One object with a metric's interface (Keras's `CompileMetrics`, named `"compile_metrics"`):
    `update_state(y_true, y_pred, sample_weight)` with structured values, `result()` a dict by
    metric name, `reset_state()`; `metrics` lists the metrics themselves.

    Args:
        metrics: `None`, a list (applied to the single output, or to every output, or one list per
            output), or a dict by output name.
        weighted_metrics: Same structure; these receive the sample weights.
        output_names: The model's output names.
        compile_loss: The model's `CompileLoss` or `None` (for `"accuracy"` resolution and the
            targets of outputs without a loss).
    """

    def __init__(self, metrics, weighted_metrics, output_names, compile_loss=None):
        self.name = "compile_metrics"
        self.output_names = list(output_names)
        self.specs = self._normalize(metrics, "metrics")
        self.weighted_specs = self._normalize(weighted_metrics, "weighted_metrics")
        for entries in self.specs + self.weighted_specs:
            for entry in entries:
                if isinstance(entry, str) and entry.lower() not in ("accuracy", "acc"):
                    metrics_module.get(entry)  # an unknown name fails here, at compile time
        self.compile_loss = compile_loss
        self._metrics = None  # list of (output index, metric, weighted)
        self._result_names = []  # the logs' key of each, unique as Keras makes them

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

    @property
    def empty(self):
        """Whether no metric was compiled."""
        return not any(self.specs) and not any(self.weighted_specs)

    @property
    def built(self):
        return self._metrics is not None

    @property
    def metrics(self):
        """The compiled metrics (after the first batch), in compile order."""
        return [m for _, m, _ in self._metrics or ()]

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    def build(self, y_true, y_pred):
        """Resolves every metric against the first batch's shapes, on the outputs' device."""
        multi = len(self.output_names) > 1
        losses = self.compile_loss.losses if self.compile_loss is not None else None
        self._metrics = []
        self._result_names = []
        taken = {}
        for weighted, specs in ((False, self.specs), (True, self.weighted_specs)):
            for index, entries in enumerate(specs):
                for entry in entries:
                    t, p = y_true[index], y_pred[index]
                    metric = metrics_module.resolve(
                        entry, None if t is None else t.shape, p.shape, loss=losses[index] if losses else None
                    )
                    prefix = f"{self.output_names[index]}_" if multi else ""
                    self._result_names.append(_result_name(metric.name, prefix, weighted, taken))
                    if multi:
                        metric.name = f"{self.output_names[index]}_{metric.name}"
                    metric.to(p.device)
                    self._metrics.append((index, metric, weighted))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Updates every metric with one batch (structured targets, outputs, sample weights)."""
        names = self.output_names
        with_loss = self.compile_loss.with_loss if self.compile_loss is not None else None
        ys = structures.split_targets(names, y_true, with_loss)
        preds = structures.split_outputs(names, y_pred)
        sws = structures.split_sample_weights(names, sample_weight)
        if self._metrics is None:
            self.build(ys, preds)
        with torch.no_grad():
            for index, metric, weighted in self._metrics:
                p = preds[index]
                if p.requires_grad:
                    p = with_mask_of(p.detach(), p)  # a masked output's metrics skip its padding
                metric.update_state(ys[index], p, sample_weight=sws[index] if weighted else None)

    def result(self):
        """The results by metric name (a metric returning a dict contributes its entries)."""
        results = {}
        for (_, metric, _), name in zip(self._metrics or (), self._result_names):
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[name] = value
        return results

    def reset_state(self):
        """Resets every metric."""
        for _, metric, _ in self._metrics or ():
            metric.reset_state()


compiler.disable_when_compiled(CompileMetrics, "update_state")
