"""`FBetaScore` and `F1Score`."""

import torch

from keraslike.backend import config
from keraslike.losses.serialization import public_module
from keraslike.metrics.metric import Metric


@public_module("keras.metrics")
class FBetaScore(Metric):
    """F-beta score: `(1 + beta**2) * precision * recall / (beta**2 * precision + recall)`.

    Args:
        average: `None` (one score per class), `"micro"` (counts pooled over classes),
            `"macro"` (mean of per-class scores) or `"weighted"` (weighted by support).
        beta: A Python float > 0; weight of recall.
        threshold: A Python float in (0, 1]; predictions above it count as 1. With `None`, the
            highest score of each sample counts as 1 (when it is nonzero).
        name: Name of the metric instance.
        dtype: Dtype of the state and result.

    Inputs are 2-D, `(batch_size, num_classes)`; the state is created on the first update.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: "
                             f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python float. "
                                 f"Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape, device):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            self.add_variable(shape=shape, name=name)
        self.to(device)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        dtype = self._torch_dtype
        y_true, y_pred = y_true.to(dtype), y_pred.to(dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape, y_pred.device)
        if self.threshold is None:
            top = torch.amax(y_pred, dim=-1, keepdim=True)
            y_pred = (y_pred >= top) & (torch.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.to(dtype)
        if sample_weight is not None:
            sample_weight = sample_weight.to(dtype).unsqueeze(1)

        def weighted_sum(value):
            if sample_weight is not None:
                value = value * sample_weight
            return value.sum() if self.axis is None else value.sum(dim=self.axis)

        self.true_positives.add_(weighted_sum(y_pred * y_true))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self):
        eps = config.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        beta2 = self.beta ** 2
        f_score = (precision * recall) / (beta2 * precision + recall + eps) * (1 + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + eps)
            return torch.sum(f_score * weights)
        if self.average is not None:
            return torch.mean(f_score)
        return f_score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


@public_module("keras.metrics")
class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall (`FBetaScore` with `beta=1.0`).

    Args:
        average: `None`, `"micro"`, `"macro"` or `"weighted"`; see `FBetaScore`.
        threshold: See `FBetaScore`.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
