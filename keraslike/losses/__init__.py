"""Losses: Keras 3's loss functions and classes on torch tensors (`keras.losses`).

A loss object is called as `loss(y_true, y_pred, sample_weight=None, mask=None)` and returns a
0-d tensor (or per-sample values with `reduction="none"`); see `Loss`.
"""

import inspect

from keraslike.backend.naming import to_snake_case
from keraslike.serialization.objects import unknown_identifier_error

from keraslike.losses.classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from keraslike.losses.functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from keraslike.losses.loss import Loss, reduce_weighted_values
from keraslike.losses.more_losses import (
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
    dice,
    tversky,
)
from keraslike.losses.serialization import (
    BUILTIN_FUNCTIONS,
    MODULE_TABLES,
    deserialize_object,
    public_module,
    serialize_object,
)

public_module("keras.losses")(Loss)

ALL_OBJECTS = (
    Loss, LossFunctionWrapper,
    KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, LogCosh, Huber,
    Hinge, SquaredHinge, CategoricalHinge,
    kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, cosine_similarity, log_cosh, huber,
    hinge, squared_hinge, categorical_hinge,
    Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy, CTC,
    dice, tversky, circle, categorical_generalized_cross_entropy, ctc,
)

ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    # tf.keras 2 names that Keras 3 dropped; accepted here so older code keeps working.
    "logcosh": log_cosh, "kullback_leibler_divergence": kl_divergence, "huber_loss": huber,
})

MODULE_TABLES["keras.losses"] = ALL_OBJECTS_DICT
BUILTIN_FUNCTIONS.update({name: obj for name, obj in ALL_OBJECTS_DICT.items()
                          if inspect.isfunction(obj)})


def serialize(loss):
    """Serializes a loss function or `Loss` instance in Keras 3's format.

    Example: `serialize(MeanSquaredError())` is `{"module": "keras.losses", "class_name":
    "MeanSquaredError", "config": {"name": "mean_squared_error", "reduction":
    "sum_over_batch_size"}, "registered_name": None}`.
    """
    return serialize_object(loss)


def deserialize(name, custom_objects=None):
    """Deserializes a loss config (or name) into a `Loss` instance or a loss function.

    Args:
        name: A serialized dict, or the name of a built-in loss.
        custom_objects: Optional dict of custom classes and functions, by name.
    """
    return deserialize_object(name, ALL_OBJECTS_DICT, custom_objects=custom_objects, kind="loss")


def get(identifier):
    """Returns a loss function or `Loss` instance for an identifier.

    Args:
        identifier: `None`, a name (`"mse"`, `"categorical_crossentropy"`,
            `"CategoricalCrossentropy"`), a config dict, a `Loss` class (instantiated with
            defaults), a `Loss` instance or a callable.

    Returns:
        A function for function names, a `Loss` instance for class names and dicts; `None`
        for `None`.

    Raises:
        ValueError: The identifier names no known loss.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise unknown_identifier_error("loss", identifier, ALL_OBJECTS_DICT)


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else tuple(x)


def is_binary_or_sparse_categorical(y_true_shape, y_pred_shape):
    """Keras's test on target/output shapes: `(is_binary, is_sparse_categorical)`.

    Binary when the output's last axis has size 1; sparse categorical when the target has a
    lower rank than the output, or a last axis of size 1 against an output's last axis > 1.
    """
    y_true_shape, y_pred_shape = _shape(y_true_shape), _shape(y_pred_shape)
    is_binary = y_pred_shape[-1] == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        y_true_shape[-1] == 1 and y_pred_shape[-1] > 1)
    return is_binary, is_sparse


def resolve(identifier, y_true_shape, y_pred_shape):
    """Turns a `compile(loss=...)` identifier for one output into a `Loss` (Keras's `get_loss`).

    `"crossentropy"`/`"ce"` become binary, sparse categorical or categorical crossentropy from
    the shapes (see `is_binary_or_sparse_categorical`); any other identifier goes through `get`.
    A function is wrapped in `LossFunctionWrapper` named after the identifier string (or the
    function's name).

    Args:
        identifier: What the user passed (string, function, `Loss`, dict); `None` gives `None`.
        y_true_shape: Shape (or tensor) of the targets of one batch.
        y_pred_shape: Shape (or tensor) of the model's output for that batch.
    """
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
        if is_binary:
            loss = binary_crossentropy
        elif is_sparse:
            loss = sparse_categorical_crossentropy
        else:
            loss = categorical_crossentropy
    else:
        loss = get(identifier)
    if isinstance(loss, Loss):
        return loss
    if isinstance(identifier, str):
        name = identifier
    else:
        name = getattr(loss, "name", None) or to_snake_case(getattr(loss, "__name__", type(loss).__name__))
    return LossFunctionWrapper(loss, name=name)


__all__ = [name for name in ALL_OBJECTS_DICT if not name.isupper() and name in globals()] + [
    "get", "serialize", "deserialize", "resolve", "reduce_weighted_values",
    "is_binary_or_sparse_categorical",
]
