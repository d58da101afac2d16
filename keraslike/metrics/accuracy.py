"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k."""

import torch

from keraslike import ops
from keraslike.backend import config
from keraslike.losses.loss import as_tensor, squeeze_or_expand_to_same_rank, torch_dtype
from keraslike.losses.serialization import public_module
from keraslike.metrics.reduction import MeanMetricWrapper


def _floatx():
    return torch_dtype(config.floatx())


def _float_pred(y_pred):
    y_pred = as_tensor(y_pred)
    return y_pred if y_pred.is_floating_point() else y_pred.to(_floatx())


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred` exactly, else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).to(_floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `(y_pred > threshold) == y_true`, else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).to(y_true.dtype)
    return (y_true == y_pred).to(_floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where `argmax(y_true) == argmax(y_pred)` over the last axis, else 0.0."""
    y_pred = _float_pred(y_pred)
    # ops.argmax, as Keras: bool one-hot labels (which torch.argmax refuses) count as 0/1.
    y_true = ops.argmax(as_tensor(y_true, device=y_pred.device), axis=-1).to(y_pred.dtype)
    original_shape = y_true.shape
    reshape = y_true.dim() == y_pred.dim()
    if reshape:
        y_true = y_true.squeeze(-1)
    matches = (y_true == torch.argmax(y_pred, dim=-1).to(y_true.dtype)).to(_floatx())
    return matches.reshape(original_shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals `argmax(y_pred)` over the last axis, else 0.0."""
    y_pred = _float_pred(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.is_floating_point():
        y_true = y_true.to(y_pred.dtype)  # as Keras does
    original_shape = y_true.shape
    reshape = y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1
    if reshape:
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    if y_true.is_floating_point():
        predicted = predicted.to(y_true.dtype)
    # Integer labels compare with the integer argmax directly: same result, one cast fewer.
    matches = (y_true == predicted).to(_floatx())
    if reshape:
        matches = matches.reshape(original_shape)
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(targets, predictions, k):
    """True where the target's score is at least the k-th largest score (ties count as in)."""
    kth = torch.topk(predictions, k, dim=-1).values[..., -1:]
    target_scores = torch.take_along_dim(predictions, targets.long()[:, None], dim=-1)
    return (target_scores >= kth).squeeze(-1)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the `k` highest scores, else 0.0."""
    y_pred = _float_pred(y_pred)
    y_true = ops.argmax(as_tensor(y_true, device=y_pred.device), axis=-1)
    original_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if y_true.dim() > 1:
        y_true = y_true.reshape(-1)
        return _in_top_k(y_true, y_pred, k).to(_floatx()).reshape(original_shape)
    return _in_top_k(y_true, y_pred, k).to(_floatx())


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the `k` highest scores (or, with `from_sorted_ids`,
    among the first `k` ids of `y_pred`), else 0.0."""
    y_pred = as_tensor(y_pred)
    if from_sorted_ids:
        y_true = as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    else:
        y_pred = _float_pred(y_pred)
        y_true = as_tensor(y_true, device=y_pred.device).to(torch.int32)
    original_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape = y_true.dim() > 1
    if reshape:
        y_true = y_true.reshape(-1)
    if from_sorted_ids:
        matches = torch.any(y_true[:, None] == y_pred[:, :k], dim=1)
    else:
        matches = _in_top_k(y_true, y_pred, k)
    matches = matches.to(_floatx())
    return matches.reshape(original_shape) if reshape else matches


@public_module("keras.metrics")
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@public_module("keras.metrics")
class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches binary labels.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        threshold: Predictions above it count as 1.
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


@public_module("keras.metrics")
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions matches the argmax of one-hot labels.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@public_module("keras.metrics")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions matches integer labels.

    Args:
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@public_module("keras.metrics")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often one-hot targets are in the top `k` predictions.

    Args:
        k: Number of top elements to look at.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


@public_module("keras.metrics")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer targets are in the top `k` predictions.

    Args:
        k: Number of top elements to look at.
        name: Name of the metric instance.
        dtype: Dtype of the state and result.
        from_sorted_ids: Whether `y_pred` holds class ids sorted by score (not scores).
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
