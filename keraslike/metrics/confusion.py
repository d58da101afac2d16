"""Metrics from confusion-matrix counts: TP/FP/TN/FN, Precision, Recall, AUC and the
"X at Y" family (SensitivityAtSpecificity, ...)."""

import torch

from keraslike.backend import config
from keraslike.losses.loss import divide_no_nan
from keraslike.losses.serialization import public_module
from keraslike.metrics import confusion_utils as cu
from keraslike.metrics.metric import Metric


class _ConfusionMatrixConditionCount(Metric):
    """Counts one confusion-matrix condition (`"tp"`, `"fp"`, `"tn"` or `"fn"`) at thresholds."""

    _condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = cu.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = cu.is_evenly_distributed_thresholds(self.thresholds)
        self.add_variable(shape=(len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        cu.update_confusion_matrix_variables(
            {self._condition: self.accumulator}, y_true, y_pred, self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight)

    def result(self):
        return self.accumulator[0].clone() if len(self.thresholds) == 1 else self.accumulator.clone()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


def _count_class(class_name, condition, doc):
    cls = type(class_name, (_ConfusionMatrixConditionCount,), {
        "_condition": condition, "__module__": __name__,
        "__doc__": doc + "\n\n    Args:\n        thresholds: A float or list of floats in [0, 1] "
        "(default 0.5); one count per threshold.\n        name: Name of the metric instance.\n"
        "        dtype: Dtype of the state and result.\n"})
    return public_module("keras.metrics")(cls)


TruePositives = _count_class("TruePositives", "tp", "Counts (weighted) true positives.")
FalsePositives = _count_class("FalsePositives", "fp", "Counts (weighted) false positives.")
TrueNegatives = _count_class("TrueNegatives", "tn", "Counts (weighted) true negatives.")
FalseNegatives = _count_class("FalseNegatives", "fn", "Counts (weighted) false negatives.")


class _PrecisionRecall(Metric):
    _other = None  # "fp" for precision, "fn" for recall

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else cu.NEG_INF
        self.thresholds = cu.parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = cu.is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.add_variable(shape=(n,), name="true_positives")
        self.add_variable(shape=(n,), name=self._other_name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        cu.update_confusion_matrix_variables(
            {"tp": self.true_positives, self._other: getattr(self, self._other_name)},
            y_true, y_pred, self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        tp = self.true_positives
        result = divide_no_nan(tp, tp + getattr(self, self._other_name))
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


@public_module("keras.metrics")
class Precision(_PrecisionRecall):
    """`true_positives / (true_positives + false_positives)`.

    Args:
        thresholds: A float or list of floats in [0, 1]; a prediction above a threshold counts as
            positive. Defaults to 0.5 (or no threshold with `top_k`). A list gives one precision
            per threshold.
        top_k: Only the `k` highest scores of each sample count as positive predictions.
        class_id: Only this class (index on the last axis) counts.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    _other, _other_name = "fp", "false_positives"


@public_module("keras.metrics")
class Recall(_PrecisionRecall):
    """`true_positives / (true_positives + false_negatives)`.

    Args: see `Precision`.
    """

    _other, _other_name = "fn", "false_negatives"


class SensitivitySpecificityBase(Metric):
    """Shared state (TP/TN/FP/FN at `num_thresholds` even thresholds) of the "X at Y" metrics."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable(shape=(len(self.thresholds),), name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        cu.update_confusion_matrix_variables(
            {"tp": self.true_positives, "tn": self.true_negatives, "fp": self.false_positives,
             "fn": self.false_negatives}, y_true, y_pred, self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            class_id=self.class_id, sample_weight=sample_weight)

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {"sensitivity": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp),
                "precision": divide_no_nan(tp, tp + fp)}

    def _max_under_constraint(self, constrained, dependent):
        feasible = constrained >= self.value
        return torch.clamp(torch.amax(torch.where(feasible, dependent, torch.zeros_like(dependent))), min=0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


class _AtBase(SensitivitySpecificityBase):
    """`<dependent>` at the best threshold where `<constrained> >= value`; subclasses name them."""

    _arg = _constrained = _dependent = None

    def _init(self, value, num_thresholds, class_id, name, dtype):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self._arg}` must be in the range [0, 1]. "
                             f"Received: {self._arg}={value}")
        super().__init__(value, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)
        self.num_thresholds = num_thresholds
        setattr(self, self._arg, value)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates[self._constrained], rates[self._dependent])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                self._arg: getattr(self, self._arg)}


_AT_ARGS = """
    Args:
        {arg}: Value in [0, 1] that the constraint must reach.
        num_thresholds: Number of thresholds spread evenly over [0, 1] (default 200).
        class_id: Only this class (last axis) counts.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
"""


@public_module("keras.metrics")
class SensitivityAtSpecificity(_AtBase):
    __doc__ = ("Best sensitivity (recall) where specificity >= `specificity`.\n"
               + _AT_ARGS.format(arg="specificity"))
    _arg, _constrained, _dependent = "specificity", "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        self._init(specificity, num_thresholds, class_id, name, dtype)


@public_module("keras.metrics")
class SpecificityAtSensitivity(_AtBase):
    __doc__ = ("Best specificity where sensitivity (recall) >= `sensitivity`.\n"
               + _AT_ARGS.format(arg="sensitivity"))
    _arg, _constrained, _dependent = "sensitivity", "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        self._init(sensitivity, num_thresholds, class_id, name, dtype)


@public_module("keras.metrics")
class PrecisionAtRecall(_AtBase):
    __doc__ = "Best precision where recall >= `recall`.\n" + _AT_ARGS.format(arg="recall")
    _arg, _constrained, _dependent = "recall", "sensitivity", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        self._init(recall, num_thresholds, class_id, name, dtype)


@public_module("keras.metrics")
class RecallAtPrecision(_AtBase):
    __doc__ = "Best recall where precision >= `precision`.\n" + _AT_ARGS.format(arg="precision")
    _arg, _constrained, _dependent = "precision", "precision", "sensitivity"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        self._init(precision, num_thresholds, class_id, name, dtype)


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "majoring": "majoring", "minoring": "minoring"}


@public_module("keras.metrics")
class AUC(Metric):
    """Area under the ROC or PR curve, from counts at `num_thresholds` thresholds.

    Args:
        num_thresholds: Number of thresholds spread evenly over [0, 1] (default 200); the
            first and last are moved by epsilon to -1e-7 and 1 + 1e-7.
        curve: `"ROC"` (default), `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"` (default; for PR, the Davis & Goadrich
            interpolation), `"minoring"` or `"majoring"`.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        thresholds: Optional explicit thresholds in [0, 1] (replaces `num_thresholds`).
        multi_label: Whether `y_pred` columns are separate labels (one curve each, averaged).
        num_labels: Number of labels, with `multi_label`; else found on the first update.
        label_weights: Optional per-label weights for the average (or the counts).
        from_logits: Whether `y_pred` holds logits (a sigmoid is applied).
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
                 from_logits=False):
        curve_key = str(getattr(curve, "value", curve))
        if curve_key.lower() not in _CURVES or curve_key not in (curve_key.lower(), curve_key.upper()):
            raise ValueError(f'Invalid AUC curve value: "{curve}". '
                             'Expected values are ["PR", "ROC", "PRGAIN"]')
        method_key = str(getattr(summation_method, "value", summation_method))
        spellings = (method_key.lower(), method_key.capitalize())
        if method_key.lower() not in _SUMMATIONS or method_key not in spellings:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            evenly = cu.is_evenly_distributed_thresholds([0.0] + thresholds + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            evenly = True
        eps = config.epsilon()
        super().__init__(name=name, dtype=dtype)
        self._thresholds_distributed_evenly = evenly
        self._thresholds = [0.0 - eps] + list(thresholds) + [1.0 + eps]
        self.curve = _CURVES[curve_key.lower()]
        self.summation_method = _SUMMATIONS[method_key.lower()]
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds used, including the two epsilon-moved end points."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {tuple(shape)}")
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_variable(shape=variable_shape, name=name)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        if not self._built:
            self._build(y_pred.shape)
            self.to(y_pred.device)
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        cu.update_confusion_matrix_variables(
            {"tp": self.true_positives, "tn": self.true_negatives, "fp": self.false_positives,
             "fn": self.false_negatives}, y_true, y_pred, self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)

    def _average_labels(self, by_label):
        if self.label_weights is None:
            return torch.mean(by_label)
        weights = cu.constant(self.label_weights, by_label.dtype, by_label.device)
        return divide_no_nan(torch.sum(by_label * weights), torch.sum(weights))

    def interpolate_pr_auc(self):
        """PR AUC with the Davis & Goadrich (2006) interpolation between thresholds."""
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[: n - 1] > 0) & (p[1:] > 0)
        safe_p_ratio = torch.where(both_positive, divide_no_nan(p[: n - 1], torch.clamp(p[1:], min=0)),
                                   torch.ones_like(p[1:]))
        increment = divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                  torch.clamp(tp[1:] + fn[1:], min=0))
        if self.multi_label:
            return self._average_labels(torch.sum(increment, dim=0))
        return torch.sum(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        n = self.num_thresholds
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scaling = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling * divide_no_nan(fp, tp)
            no_tp = tp == 0
            recall_gain = torch.clamp(torch.where(no_tp, torch.zeros_like(recall_gain), recall_gain), min=0.0)
            precision_gain = torch.where(no_tp, torch.ones_like(precision_gain), precision_gain)
            x, y = recall_gain, precision_gain
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[: n - 1], y[1:])
        else:
            heights = torch.maximum(y[: n - 1], y[1:])
        riemann = (x[: n - 1] - x[1:]) * heights
        if self.multi_label:
            return self._average_labels(torch.sum(riemann, dim=0))
        return torch.sum(riemann)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self.label_weights,
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
