"""`MonitorCallback`: the "is this value an improvement?" logic shared by EarlyStopping,
ModelCheckpoint and ReduceLROnPlateau."""

import operator
import warnings

from keraslike.callbacks.callback import Callback

# Keras marks its metric classes with `_direction`; for metrics that carry no `_direction`
# attribute, these tables give Keras's answer by class name. A metric in neither (a user's own
# metric) has no known direction, and `mode="auto"` then raises, as in Keras.
_MAXIMIZED_METRIC_CLASSES = frozenset({
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Precision", "Recall",
    "SensitivitySpecificityBase", "AUC", "PearsonCorrelation", "ConcordanceCorrelation",
    "FBetaScore", "_IoUBase", "CosineSimilarity", "R2Score",
})
_MINIMIZED_METRIC_CLASSES = frozenset({
    "Hinge", "SquaredHinge", "CategoricalHinge", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "RootMeanSquaredError", "LogCoshError",
})


def _metric_direction(metric):
    """`"up"`, `"down"` or `None` (unknown) for a metric object."""
    direction = getattr(metric, "_direction", None)
    if direction is not None:
        return direction
    names = {cls.__name__ for cls in type(metric).__mro__}
    if names & _MAXIMIZED_METRIC_CLASSES:
        return "up"
    if names & _MINIMIZED_METRIC_CLASSES or str(getattr(metric, "name", "")).endswith("loss"):
        return "down"
    return None


def _all_metrics(metrics):
    """Metrics, with containers (objects that hold a `.metrics` list) opened recursively."""
    for m in metrics:
        inner = getattr(m, "metrics", None)
        if isinstance(inner, (list, tuple)):
            yield from _all_metrics(inner)
        if hasattr(m, "name"):
            yield m


class MonitorCallback(Callback):
    """Base class for callbacks that monitor a quantity and act on improvements.

    Args:
        monitor: Quantity to monitor (a key of the epoch logs). Defaults to `"val_loss"`.
        mode: One of `{"auto", "min", "max"}`. In `"auto"` mode the direction comes from the
            name: losses are minimized, and a compiled metric of that name is maximized or
            minimized as Keras does (accuracy, AUC, precision, ... up; errors down).
        baseline: Initial "best" value; `None` means the first value seen.
        min_delta: Minimum change to count as an improvement. Defaults to `0`.

    Raises:
        ValueError: With `mode="auto"`, when the direction cannot be inferred.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = operator.lt
            for m in _all_metrics(getattr(self.model, "metrics", None) or ()):
                if m.name == metric_name:
                    direction = _metric_direction(m)
                    if direction is not None:
                        self.monitor_op = operator.gt if direction == "up" else operator.lt
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, but "
                    "Keras isn't able to automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to monitor based on the "
                    "highest metric value, or pass `mode='min'` in order to use the lowest value."
                )
        if self.monitor_op is operator.lt:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)
