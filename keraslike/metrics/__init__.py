"""Metrics: Keras 3's stateful metrics as `torch.nn.Module`s with buffer state (`keras.metrics`).

Every metric has `update_state(y_true, y_pred, sample_weight=None)`, `result()`, `reset_state()`,
`name`, `dtype`, `variables`, `get_config()` / `from_config()`, and moves with `.to(device)`.
"""

from keraslike.backend.naming import to_snake_case
from keraslike.backend.serialization import get_object
from keraslike.losses import functions as _loss_fns
from keraslike.losses import is_binary_or_sparse_categorical
from keraslike.losses.serialization import (
    BUILTIN_FUNCTIONS,
    MODULE_TABLES,
    deserialize_object,
    public_module,
    serialize_object,
)
from keraslike.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from keraslike.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from keraslike.metrics.fscore import F1Score, FBetaScore
from keraslike.metrics.iou import IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from keraslike.metrics.metric import Metric
from keraslike.metrics.reduction import Mean, MeanMetricWrapper, Sum
from keraslike.metrics.regression import R2Score, RootMeanSquaredError
from keraslike.metrics.wrappers import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    ConcordanceCorrelation,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    PearsonCorrelation,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    concordance_correlation,
    pearson_correlation,
)

for _cls in (Metric, Mean, Sum, MeanMetricWrapper):
    public_module("keras.metrics")(_cls)
del _cls

ALL_OBJECTS = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives,
    ConcordanceCorrelation, PearsonCorrelation,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore,
    IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)

# Keras's table: class names, their snake-case forms ("mean_io_u", "auc", "accuracy"), short names.
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

MODULE_TABLES["keras.metrics"] = ALL_OBJECTS_DICT
BUILTIN_FUNCTIONS.update({fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    pearson_correlation, concordance_correlation)})

# The functional forms Keras exports under `keras.metrics` (the loss functions among them).
mean_squared_error = _loss_fns.mean_squared_error
mean_absolute_error = _loss_fns.mean_absolute_error
mean_absolute_percentage_error = _loss_fns.mean_absolute_percentage_error
mean_squared_logarithmic_error = _loss_fns.mean_squared_logarithmic_error
binary_crossentropy = _loss_fns.binary_crossentropy
categorical_crossentropy = _loss_fns.categorical_crossentropy
sparse_categorical_crossentropy = _loss_fns.sparse_categorical_crossentropy
binary_focal_crossentropy = _loss_fns.binary_focal_crossentropy
categorical_focal_crossentropy = _loss_fns.categorical_focal_crossentropy
kl_divergence = _loss_fns.kl_divergence
poisson = _loss_fns.poisson
hinge = _loss_fns.hinge
squared_hinge = _loss_fns.squared_hinge
categorical_hinge = _loss_fns.categorical_hinge
huber = _loss_fns.huber
log_cosh = _loss_fns.log_cosh


def serialize(metric):
    """Serializes a metric (or metric function) in Keras 3's format."""
    return serialize_object(metric)


def deserialize(config, custom_objects=None):
    """Deserializes a metric config (or name) into a `Metric` instance (or class/function)."""
    return deserialize_object(config, ALL_OBJECTS_DICT, custom_objects=custom_objects, kind="metric")


def get(identifier):
    """Returns a metric instance or function for an identifier.

    Args:
        identifier: `None`, a name (`"auc"`, `"mse"`, `"AUC"`, `"accuracy"` - which here means
            `Accuracy`, exact equality; use `resolve` for the compile-time meaning), a config dict,
            a `Metric` class (instantiated with defaults), an instance or a function.

    Raises:
        ValueError: The identifier names no known metric.
    """
    return get_object(identifier, deserialize, ALL_OBJECTS_DICT, "metric", use_registry=False)


def resolve_accuracy(identifier, y_true_shape, y_pred_shape, loss=None):
    """Keras's compile-time meaning of `"accuracy"` / `"acc"` for one output.

    The rule (Keras 3's `compile_utils.get_metric`) looks at shapes, not at the loss:
    - the output's last axis has size 1 -> `BinaryAccuracy`;
    - else the target has lower rank than the output, or a last axis of size 1 ->
      `SparseCategoricalAccuracy`;
    - else `CategoricalAccuracy`.
    The metric is named exactly as the user wrote it (`"acc"` stays `"acc"`, so History has
    `acc` / `val_acc`).

    Args:
        identifier: `"accuracy"` or `"acc"` (any case).
        y_true_shape: Shape (or tensor) of one batch of targets; `None` when unknown.
        y_pred_shape: Shape (or tensor) of the model's output.
        loss: Only used when `y_true_shape` is `None` (tf.keras 2's rule): a loss named or
            wrapping binary / sparse categorical crossentropy picks that accuracy.

    Returns:
        A new `BinaryAccuracy`, `SparseCategoricalAccuracy` or `CategoricalAccuracy`.
    """
    name = str(identifier)
    if y_true_shape is not None:
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    else:
        loss_name = _loss_name(loss)
        y_pred_shape = tuple(getattr(y_pred_shape, "shape", y_pred_shape))
        is_binary = y_pred_shape[-1] == 1 or loss_name in ("binary_crossentropy", "binary_focal_crossentropy")
        is_sparse = loss_name == "sparse_categorical_crossentropy"
    if is_binary:
        return BinaryAccuracy(name=name)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def _loss_name(loss):
    fn = getattr(loss, "fn", loss)
    if isinstance(fn, str):
        return to_snake_case(fn) if fn[:1].isupper() else fn
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return to_snake_case(name)


def resolve(identifier, y_true_shape, y_pred_shape, loss=None):
    """Turns one `compile(metrics=[...])` entry into a `Metric` (Keras's `get_metric`).

    `"accuracy"`/`"acc"` go through `resolve_accuracy`; other identifiers through `get`. A plain
    function is wrapped in `MeanMetricWrapper`. The metric is named after the identifier when
    it is a string (`"mse"` stays `"mse"`), else keeps its own name (a function: its snake-case
    name).

    Args:
        identifier: String, function, `Metric` instance or class, or config dict.
        y_true_shape: Shape (or tensor) of one batch of targets.
        y_pred_shape: Shape (or tensor) of the model's output.
        loss: Passed to `resolve_accuracy` (used only without `y_true_shape`).
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        metric = resolve_accuracy(identifier, y_true_shape, y_pred_shape, loss=loss)
    else:
        metric = get(identifier)
    if isinstance(identifier, str):
        name = identifier
    elif hasattr(metric, "name"):
        name = metric.name
    else:
        name = to_snake_case(getattr(metric, "__name__", type(metric).__name__))
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = name
    return metric


__all__ = [name for name in ALL_OBJECTS_DICT if name in globals() and not name.isupper()] + [
    "get", "serialize", "deserialize", "resolve", "resolve_accuracy",
]
