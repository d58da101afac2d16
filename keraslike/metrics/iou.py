"""Intersection-over-union metrics: `IoU`, `BinaryIoU`, `MeanIoU`, `OneHotIoU`, `OneHotMeanIoU`."""

import warnings

import torch

from keraslike import ops
from keraslike.backend import config
from keraslike.losses.serialization import public_module
from keraslike.metrics.metric import Metric


class _IoUBase(Metric):
    """Accumulates a `(num_classes, num_classes)` confusion matrix (rows: labels, cols: predictions)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.add_variable(shape=(num_classes, num_classes), name="total_cm")

    def update_state(self, y_true, y_pred, sample_weight=None):
        float_weights = "float" in str(getattr(sample_weight, "dtype", ""))
        if sample_weight is not None and "int" in self.dtype and float_weights:
            warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an "
                          "incorrect weight due to type casting Consider using integer weights.")
        y_true, y_pred, sample_weight = self._inputs(y_true, y_pred, sample_weight)
        if not self.sparse_y_true:
            y_true = ops.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = ops.argmax(y_pred, axis=self.axis)
        dtype = self._torch_dtype
        y_true = y_true.to(dtype).reshape(-1)
        y_pred = y_pred.to(dtype).reshape(-1)
        if sample_weight is None:
            sample_weight = torch.ones((), dtype=dtype, device=y_true.device)
        sample_weight = torch.broadcast_to(sample_weight.to(dtype).reshape(-1) if sample_weight.dim() > 1
                                           else sample_weight.to(dtype), y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        zero = torch.zeros((), dtype=dtype, device=y_true.device)
        y_true = torch.where(valid, y_true, zero).long()
        y_pred = torch.where(valid, y_pred, zero).long()
        sample_weight = torch.where(valid, sample_weight, zero)
        flat_cm = self.total_cm.view(-1)
        flat_cm.index_add_(0, y_true * n + y_pred, sample_weight)


@public_module("keras.metrics")
class IoU(_IoUBase):
    """Intersection over union, averaged over `target_class_ids`: `TP / (TP + FP + FN)`.

    Args:
        num_classes: Number of classes.
        target_class_ids: Classes whose IoU is averaged.
        name: Name of the metric instance.
        dtype: Dtype of the confusion matrix (default `"int32"`, as in Keras).
        ignore_class: Optional label left out of the counts.
        sparse_y_true: Whether labels are class indices (else one-hot / scores along `axis`).
        sparse_y_pred: Whether predictions are class indices (else scores along `axis`).
        axis: The class axis for non-sparse inputs.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.to(torch.float32)
        true_positives = torch.diagonal(cm)
        denominator = cm.sum(dim=0) + cm.sum(dim=1) - true_positives
        ids = self.target_class_ids
        if ids != list(range(self.num_classes)):
            index = torch.tensor(ids, device=cm.device)
            true_positives, denominator = true_positives[index], denominator[index]
        valid = denominator > 1e-9
        iou = torch.where(valid, true_positives / (denominator + config.epsilon()),
                          torch.zeros_like(denominator))
        return torch.sum(iou) / (valid.to(torch.float32).sum() + config.epsilon())

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@public_module("keras.metrics")
class BinaryIoU(IoU):
    """IoU for binary labels, predictions thresholded at `threshold` (`>=` counts as 1).

    Args:
        target_class_ids: Classes (0 and/or 1) whose IoU is averaged.
        threshold: Predictions at or above it count as class 1.
        name: Name of the metric instance.
        dtype: Dtype of the confusion matrix.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._inputs(y_true, y_pred)
        y_pred = (y_pred.to(torch.float32) >= self.threshold).to(self._torch_dtype)
        return super().update_state(y_true.to(self._torch_dtype), y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


@public_module("keras.metrics")
class MeanIoU(IoU):
    """IoU averaged over all classes.

    Args:
        num_classes: Number of classes.
        name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: See `IoU`.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)), name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@public_module("keras.metrics")
class OneHotIoU(IoU):
    """`IoU` for one-hot labels (and, unless `sparse_y_pred`, score predictions).

    Args: see `IoU` (no `sparse_y_true`).
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


@public_module("keras.metrics")
class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels (and, unless `sparse_y_pred`, score predictions).

    Args: see `MeanIoU` (no `sparse_y_true`).
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
