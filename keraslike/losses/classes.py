"""Loss classes: each wraps a loss function with its options, with Keras 3's names and configs."""

from keraslike.losses import functions as fns
from keraslike.losses.loss import Loss, squeeze_or_expand_to_same_rank
from keraslike.losses.serialization import (
    MODULE_TABLES,
    deserialize_object,
    public_module,
    serialize_object,
)


@public_module("keras.src.losses.losses", "LossFunctionWrapper")
class LossFunctionWrapper(Loss):
    """Wraps a function `fn(y_true, y_pred, **kwargs)` into a `Loss`.

    Args:
        fn: The loss function; returns per-sample losses.
        reduction: See `Loss`.
        name: Optional name of the loss instance.
        dtype: The dtype of the loss's computations.
        **kwargs: Keyword arguments passed on to `fn`.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs
        self._keep_integer_labels = fn is fns.sparse_categorical_crossentropy

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def call_with_mask(self, y_true, y_pred):
        if self.fn is fns.sparse_categorical_crossentropy:
            # The loss itself masks the `ignore_class` entries out of the average.
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            return fns.sparse_categorical_crossentropy_with_mask(y_true, y_pred, **self._fn_kwargs)
        return self.call(y_true, y_pred), None

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialize_object(self.fn)
        config.update(serialize_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = {"class_name": "function", "config": config["fn"]}
        if isinstance(config.get("fn"), dict):
            table = MODULE_TABLES.get("keras.losses", {})
            config["fn"] = deserialize_object(config["fn"], table, kind="loss")
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _NamedLoss(LossFunctionWrapper):
    """A public loss class: its config is `Loss`'s plus the options listed in `_config_keys`."""

    _config_keys = ()

    def get_config(self):
        config = Loss.get_config(self)
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _simple(class_name, fn, default_name, doc):
    """Defines a loss class with no options besides `reduction`, `name` and `dtype`."""

    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, dtype=dtype)

    cls = type(class_name, (_NamedLoss,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})
    return public_module("keras.losses")(cls)


_COMMON_ARGS = """
    Args:
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, `"none"` or `None`.
        name: Name of the loss instance.
        dtype: The dtype of the loss's computations; defaults to floatx.
"""

MeanSquaredError = _simple("MeanSquaredError", fns.mean_squared_error, "mean_squared_error",
                           "Mean of squares of errors: `mean(square(y_true - y_pred))`." + _COMMON_ARGS)
MeanAbsoluteError = _simple("MeanAbsoluteError", fns.mean_absolute_error, "mean_absolute_error",
                            "Mean of absolute errors: `mean(abs(y_true - y_pred))`." + _COMMON_ARGS)
MeanAbsolutePercentageError = _simple(
    "MeanAbsolutePercentageError", fns.mean_absolute_percentage_error, "mean_absolute_percentage_error",
    "`100 * mean(abs((y_true - y_pred) / y_true))`." + _COMMON_ARGS)
MeanSquaredLogarithmicError = _simple(
    "MeanSquaredLogarithmicError", fns.mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    "`mean(square(log(y_true + 1) - log(y_pred + 1)))`." + _COMMON_ARGS)
LogCosh = _simple("LogCosh", fns.log_cosh, "log_cosh",
                  "Logarithm of the hyperbolic cosine of the prediction error." + _COMMON_ARGS)
Hinge = _simple("Hinge", fns.hinge, "hinge",
                "`maximum(1 - y_true * y_pred, 0)`; labels 0/1 are read as -1/1." + _COMMON_ARGS)
SquaredHinge = _simple("SquaredHinge", fns.squared_hinge, "squared_hinge",
                       "`square(maximum(1 - y_true * y_pred, 0))`." + _COMMON_ARGS)
CategoricalHinge = _simple("CategoricalHinge", fns.categorical_hinge, "categorical_hinge",
                           "`maximum(neg - pos + 1, 0)` for one-hot labels." + _COMMON_ARGS)
KLDivergence = _simple("KLDivergence", fns.kl_divergence, "kl_divergence",
                       "Kullback-Leibler divergence: `y_true * log(y_true / y_pred)`." + _COMMON_ARGS)
Poisson = _simple("Poisson", fns.poisson, "poisson",
                  "Poisson loss: `y_pred - y_true * log(y_pred)`." + _COMMON_ARGS)


@public_module("keras.losses")
class CosineSimilarity(_NamedLoss):
    """Negative cosine similarity between labels and predictions along `axis` (config omits `axis`,
    as in Keras)."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(fns.cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)


@public_module("keras.losses")
class Huber(_NamedLoss):
    """Huber loss: quadratic for errors up to `delta`, linear beyond (config omits `delta`, as in
    Keras)."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(fns.huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


@public_module("keras.losses")
class BinaryCrossentropy(_NamedLoss):
    """Crossentropy between binary labels and predicted probabilities (or logits).

    Args:
        from_logits: Whether `y_pred` holds logits; otherwise probabilities, clipped to
            `[1e-7, 1 - 1e-7]`.
        label_smoothing: In `[0, 1]`; labels become `y * (1 - ls) + 0.5 * ls`.
        axis: The axis to average the crossentropy over.
        reduction, name, dtype: See `Loss`.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(fns.binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


@public_module("keras.losses")
class BinaryFocalCrossentropy(_NamedLoss):
    """Binary crossentropy down-weighting easy examples by `(1 - p_t) ** gamma`.

    Args:
        apply_class_balancing: Whether to weight positives by `alpha`, negatives by `1 - alpha`.
        alpha: Balancing weight, used when `apply_class_balancing=True`.
        gamma: Focusing parameter.
        from_logits, label_smoothing, axis, reduction, name, dtype: See `BinaryCrossentropy`.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(fns.binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma


@public_module("keras.losses")
class CategoricalCrossentropy(_NamedLoss):
    """Crossentropy between one-hot labels and predicted probabilities (or logits).

    Args:
        from_logits: Whether `y_pred` holds logits; otherwise probabilities, rescaled to sum to 1
            and clipped to `[1e-7, 1 - 1e-7]`.
        label_smoothing: In `[0, 1]`; labels become `y * (1 - ls) + ls / num_classes`.
        axis: The class axis.
        reduction, name, dtype: See `Loss`.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(fns.categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


@public_module("keras.losses")
class CategoricalFocalCrossentropy(_NamedLoss):
    """Categorical crossentropy weighted by `alpha * (1 - p) ** gamma`.

    Args:
        alpha: Weighting factor.
        gamma: Focusing parameter.
        from_logits, label_smoothing, axis, reduction, name, dtype: See `CategoricalCrossentropy`.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(fns.categorical_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma


@public_module("keras.losses")
class SparseCategoricalCrossentropy(_NamedLoss):
    """Crossentropy between integer labels and predicted probabilities (or logits).

    Args:
        from_logits: Whether `y_pred` holds logits.
        ignore_class: Optional label to ignore: its entries are masked out of the average
            (e.g. padding in segmentation or sequence labels).
        reduction: See `Loss`.
        axis: The class axis (not part of the config, as in Keras).
        name, dtype: See `Loss`.

    Labels of a float dtype are truncated to int64, as in Keras.
    """

    _config_keys = ("from_logits", "ignore_class")
    _keep_integer_labels = True

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(fns.sparse_categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
