"""`RootMeanSquaredError` and `R2Score`."""

import torch

from keraslike.losses.loss import squeeze_or_expand_to_same_rank
from keraslike.losses.serialization import public_module
from keraslike.metrics.metric import Metric
from keraslike.metrics.reduction import Mean


@public_module("keras.metrics")
class RootMeanSquaredError(Mean):
    """`sqrt(mean(square(y_true - y_pred)))` over everything seen so far.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(self._torch_dtype),
                                                        y_pred.to(self._torch_dtype))
        self._accumulate(torch.square(y_pred - y_true), sample_weight)

    def result(self):
        return torch.sqrt(super().result())


@public_module("keras.metrics")
class R2Score(Metric):
    """Coefficient of determination, per output and aggregated.

    Args:
        class_aggregation: `"uniform_average"` (default), `"variance_weighted_average"` or `None`
            (one score per output).
        num_regressors: Number of independent regressors, for the adjusted R2 score; 0 means
            the plain score.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.

    Inputs are 2-D, `(batch_size, num_outputs)`; the state is created on the first update.
    Unlike Keras, the adjusted-score fallbacks (more regressors than samples) happen on the
    device without a warning, since warning would need the sample count on the host.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.add_variable(shape=(), name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        num_classes = y_pred_shape[-1]
        for name in ("squared_sum", "sum", "total_mse", "count"):
            self.add_variable(shape=(num_classes,), name=name)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(self._torch_dtype),
                                                        y_pred.to(self._torch_dtype))
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if sample_weight is None:
            sample_weight = torch.ones((), dtype=self._torch_dtype, device=y_true.device)
        sample_weight = sample_weight.to(self._torch_dtype)
        if sample_weight.dim() == 1:
            sample_weight = sample_weight.unsqueeze(1)
        sample_weight = torch.broadcast_to(sample_weight, y_true.shape)
        weighted_y_true = y_true * sample_weight
        self.sum.add_(weighted_y_true.sum(dim=0))
        self.squared_sum.add_((y_true * weighted_y_true).sum(dim=0))
        self.total_mse.add_((torch.square(y_true - y_pred) * sample_weight).sum(dim=0))
        self.count.add_(sample_weight.sum(dim=0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw_scores = 1 - (self.total_mse / total)
        raw_scores = torch.where(torch.isinf(raw_scores), torch.zeros_like(raw_scores), raw_scores)
        if self.class_aggregation == "uniform_average":
            r2_score = torch.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            r2_score = torch.sum(total * raw_scores) / torch.sum(total)
        else:
            r2_score = raw_scores
        if self.num_regressors != 0:
            n = self.num_samples
            p = float(self.num_regressors)
            adjusted = 1.0 - (1.0 - r2_score) * (n - 1.0) / (n - p - 1.0)
            # Keras falls back to the plain score when p >= n - 1.
            r2_score = torch.where(p < n - 1.0, adjusted, r2_score)
        return r2_score

    def get_config(self):
        config = super().get_config()
        config.update({"class_aggregation": self.class_aggregation, "num_regressors": self.num_regressors})
        return config
