"""`Sum`, `Mean` and `MeanMetricWrapper` (a `Mean` of any per-sample function)."""

import torch

from keraslike.losses import functions as loss_fns
from keraslike.losses.loss import apply_mask, as_tensor, squeeze_or_expand_to_same_rank
from keraslike.losses.serialization import MODULE_TABLES, deserialize_object, serialize_object
from keraslike.metrics.metric import Metric


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype, mask=None):
    """Keras's rule for weighting values before they are summed into a metric.

    Values are reduced (with `reduce_fn`, `torch.sum` or `torch.mean`) to the rank of
    `sample_weight`, multiplied by it, then reduced to one value per sample. `mask`, the values'
    own mask, counts only when there are sample weights (as in Keras).

    Returns:
        `(values, sample_weight)`, both of shape `(batch,)` (or scalars).
    """
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype=dtype, device=values.device)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.dim(), values.dim()
        if values_ndim > weight_ndim:
            values = reduce_fn(values, dim=tuple(range(weight_ndim, values_ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_ndim)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """Computes the (weighted) sum of the given values.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.

    Example: `m = Sum(); m.update_state([1, 3, 5, 7]); m.result()` is `16.0`.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable(shape=(), name="total")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = self._inputs(values, sample_weight)
        values, _ = reduce_to_samplewise_values(values, sample_weight, torch.sum, self._torch_dtype)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """Computes the (weighted) mean of the given values: `total / count`.

    With `sample_weight`, the count is the sum of the weights; otherwise the number of samples
    (the size of the first axis).

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable(shape=(), name="total")
        self.add_variable(shape=(), name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = self._inputs(values, sample_weight)
        self._accumulate(values, sample_weight)

    def _accumulate(self, values, sample_weight, mask=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, torch.mean, self._torch_dtype, mask=mask)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.dim() >= 1 else 1)

    def result(self):
        zero = self.count == 0
        return torch.where(zero, torch.zeros_like(self.total),
                           self.total / torch.where(zero, torch.ones_like(self.count), self.count))


class MeanMetricWrapper(Mean):
    """Wraps a function `fn(y_true, y_pred, **kwargs)` returning per-sample values into a `Mean`.

    Args:
        fn: The metric function.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        **kwargs: Keyword arguments passed on to `fn`.

    `update_state(y_true, y_pred, sample_weight=None, mask=None)`: `mask` (or a `_keras_mask`
    attribute on `y_pred`) weights out masked entries, as Keras does with `_keras_mask`.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        if mask is None:
            mask = getattr(y_pred, "_keras_mask", None)
        y_true, y_pred, sample_weight, mask = self._inputs(y_true, y_pred, sample_weight, mask)
        values_mask = None
        if self._fn is loss_fns.sparse_categorical_crossentropy:
            values, values_mask = loss_fns.sparse_categorical_crossentropy_with_mask(
                y_true, y_pred, **self._fn_kwargs)
        else:
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        values = as_tensor(values)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask.bool(), dtype=self._torch_dtype, reduction="sum")
        self._accumulate(values, sample_weight, mask=values_mask)

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialize_object(self._fn)
        config.update(serialize_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = {"class_name": "function", "config": config["fn"]}
        if isinstance(config.get("fn"), dict):
            config["fn"] = deserialize_object(config["fn"], MODULE_TABLES.get("keras.metrics", {}),
                                              kind="metric")
        return cls(**config)
