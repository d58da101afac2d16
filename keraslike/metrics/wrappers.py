"""Metrics that average a per-sample function: regression errors, hinge, crossentropies,
correlations. Each is a `MeanMetricWrapper` with Keras 3's name and config."""

import torch

from keraslike.backend import config
from keraslike.losses import functions as fns
from keraslike.losses.loss import squeeze_or_expand_to_same_rank
from keraslike.losses.serialization import public_module
from keraslike.metrics.reduction import MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity of the L2-normalised tensors along `axis` (1 is most similar)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*fns._pair(y_true, y_pred))
    return torch.sum(fns.l2_normalize(y_true, axis) * fns.l2_normalize(y_pred, axis), dim=axis)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient along `axis`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*fns._pair(y_true, y_pred))
    t = y_true - torch.mean(y_true, dim=axis, keepdim=True)
    p = y_pred - torch.mean(y_pred, dim=axis, keepdim=True)
    t = t / torch.std(t, dim=axis, keepdim=True, unbiased=False)
    p = p / torch.std(p, dim=axis, keepdim=True, unbiased=False)
    return torch.mean(t * p, dim=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Concordance correlation coefficient along `axis` (Keras's formula)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*fns._pair(y_true, y_pred))
    t_mean = torch.mean(y_true, dim=axis, keepdim=True)
    p_mean = torch.mean(y_pred, dim=axis, keepdim=True)
    t_var = torch.var(y_true - t_mean, dim=axis, keepdim=True, correction=0)
    p_var = torch.var(y_pred - p_mean, dim=axis, keepdim=True, correction=0)
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + torch.square(t_mean - p_mean)
    return torch.mean(2.0 * covar / (norm + config.epsilon()), dim=axis)


class _NamedWrapper(MeanMetricWrapper):
    """A public wrapper metric: config is `name`, `dtype` and the attributes in `_config_keys`."""

    _config_keys = ()

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config


def _simple(class_name, fn, default_name, doc):
    """Defines a wrapper metric whose only arguments are `name` and `dtype`."""

    def __init__(self, name=default_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)

    doc += ("\n\n    Args:\n        name: Name of the metric instance.\n"
            "        dtype: Dtype of the state and result.\n")
    cls = type(class_name, (_NamedWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})
    return public_module("keras.metrics")(cls)


MeanSquaredError = _simple("MeanSquaredError", fns.mean_squared_error, "mean_squared_error",
                           "Mean squared error between labels and predictions.")
MeanAbsoluteError = _simple("MeanAbsoluteError", fns.mean_absolute_error, "mean_absolute_error",
                            "Mean absolute error between labels and predictions.")
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError", fns.mean_absolute_percentage_error, "mean_absolute_percentage_error",
    "Mean absolute percentage error between labels and predictions.")
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError", fns.mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    "Mean squared logarithmic error between labels and predictions.")
LogCoshError = _simple("LogCoshError", fns.log_cosh, "logcosh",
                       "Logarithm of the hyperbolic cosine of the prediction error.")
Hinge = _simple("Hinge", fns.hinge, "hinge", "Hinge loss as a metric.")
SquaredHinge = _simple("SquaredHinge", fns.squared_hinge, "squared_hinge", "Squared hinge loss as a metric.")
CategoricalHinge = _simple("CategoricalHinge", fns.categorical_hinge, "categorical_hinge",
                           "Categorical hinge loss as a metric.")
KLDivergence = _simple("KLDivergence", fns.kl_divergence, "kl_divergence",
                       "Kullback-Leibler divergence between labels and predictions.")
Poisson = _simple("Poisson", fns.poisson, "poisson", "Poisson loss as a metric.")


@public_module("keras.metrics")
class CosineSimilarity(_NamedWrapper):
    """Cosine similarity between labels and predictions along `axis` (config omits `axis`, as in
    Keras).

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        axis: The axis along which the similarity is computed.
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)


@public_module("keras.metrics")
class PearsonCorrelation(_NamedWrapper):
    """Pearson correlation coefficient along `axis`, averaged over samples.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        axis: The axis along which the correlation is computed.
    """

    _config_keys = ("axis",)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


@public_module("keras.metrics")
class ConcordanceCorrelation(_NamedWrapper):
    """Concordance correlation coefficient along `axis`, averaged over samples.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        axis: The axis along which the correlation is computed.
    """

    _config_keys = ("axis",)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


@public_module("keras.metrics")
class BinaryCrossentropy(_NamedWrapper):
    """Binary crossentropy between labels and predictions, averaged over samples.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In `[0, 1]`; see `keras.losses.BinaryCrossentropy`.
    """

    _config_keys = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(fns.binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing


@public_module("keras.metrics")
class CategoricalCrossentropy(_NamedWrapper):
    """Categorical crossentropy between one-hot labels and predictions, averaged over samples.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In `[0, 1]`; see `keras.losses.CategoricalCrossentropy`.
        axis: The class axis.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0,
                 axis=-1):
        super().__init__(fns.categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


@public_module("keras.metrics")
class SparseCategoricalCrossentropy(_NamedWrapper):
    """Crossentropy between integer labels and predictions, averaged over samples.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        from_logits: Whether `y_pred` holds logits.
        ignore_class: Optional label whose entries count as 0 (and are weighted out when
            `sample_weight` is given, as in Keras).
        axis: The class axis.
    """

    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(fns.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
