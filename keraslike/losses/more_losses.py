"""More Keras 3 losses: `Dice`, `Tversky`, `Circle`, `CategoricalGeneralizedCrossEntropy`, `CTC`
(functions and classes, with Keras's formulas, defaults and configs)."""

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.losses.classes import _NamedLoss
from keraslike.losses.loss import as_tensor
from keraslike.losses.serialization import public_module
from keraslike.ops.nn_more import ctc_loss


def _pair(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    return as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device), y_pred


def _sum(x, axis):
    return torch.sum(x) if axis is None else torch.sum(x, dim=axis)


def dice(y_true, y_pred, axis=None):
    """Dice loss: `1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))` over `axis`
    (all axes by default: one value for the whole batch)."""
    y_true, y_pred = _pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    return 1 - 2.0 * intersection / (_sum(y_true, axis) + _sum(y_pred, axis) + config.epsilon())


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss: `1 - TP / (TP + alpha * FP + beta * FN)` over `axis` (all axes by default)."""
    y_true, y_pred = _pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    false_positives = _sum((1 - y_pred) * y_true, axis)
    false_negatives = _sum(y_pred * (1 - y_true), axis)
    denominator = intersection + false_positives * alpha + false_negatives * beta + config.epsilon()
    return 1 - intersection / denominator


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,
           margin=0.4):
    """Circle loss of L2-normalized embeddings `y_pred` `(batch, dim)` with integer labels.

    Pairs with the same label are pulled together, others pushed apart, each pair weighted by how
    far it is from its optimum. Returns one loss per sample (entries at 0 are masked out of the
    average when reduced, as Keras does).
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device).to(torch.int32)
    ref_embeddings = y_pred if ref_embeddings is None else as_tensor(ref_embeddings, device=y_pred.device)
    ref_labels = y_true if ref_labels is None else as_tensor(ref_labels, device=y_pred.device).to(torch.int32)
    distances = torch.clamp(1 - y_pred @ ref_embeddings.T, min=0.0)  # (batch, refs)
    positive = y_true.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool, device=positive.device)
    pos_weights = torch.clamp((margin + distances) * positive, min=0.0)
    neg_weights = torch.clamp((1 + margin - distances) * negative, min=0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * (1 - margin - distances)
    p_loss = torch.logsumexp(torch.where(positive, pos_terms, float("-inf")), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_terms, float("-inf")), dim=1)
    return F.softplus(p_loss + n_loss)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross entropy (noise-robust): `(1 - p**q) / q`, `p` the predicted probability
    of the integer label `y_true`."""
    y_pred = as_tensor(y_pred)
    labels = as_tensor(y_true, device=y_pred.device).to(torch.int64)
    p = torch.sum(y_pred * F.one_hot(labels, y_pred.shape[-1]).to(y_pred.dtype), dim=-1)
    return (1 - torch.pow(p, q)) / q


def ctc(y_true, y_pred):
    """CTC loss of integer label sequences `y_true` `(batch, max_label_length)` (0 is the blank
    and padding) and logits `y_pred` `(batch, time, classes)`, one loss per sequence."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
            f"integer format. Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    batch, time = y_pred.shape[:2]
    input_length = torch.full((batch,), time, dtype=torch.int32, device=y_pred.device)
    label_length = torch.sum(y_true != 0, dim=-1).to(torch.int32)
    return ctc_loss.eager(y_true, y_pred, label_length, input_length, mask_index=0)


@public_module("keras.losses")
class Dice(_NamedLoss):
    """Dice loss (`1 - Dice coefficient`) between labels and predictions.

    Args:
        reduction, name, dtype: See `Loss`.
        axis: Axes to sum over (default all: one value for the batch).
    """

    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


@public_module("keras.losses")
class Tversky(_NamedLoss):
    """Tversky loss, a Dice loss weighting false positives by `alpha` and false negatives by
    `beta` (`alpha = beta = 0.5` is Dice).

    Args:
        alpha: Weight of false positives.
        beta: Weight of false negatives.
        reduction, name, dtype: See `Loss`.
        axis: Axes to sum over (default all).
    """

    _config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis


@public_module("keras.losses")
class Circle(_NamedLoss):
    """Circle loss for metric learning on L2-normalized embeddings with integer labels.

    Args:
        gamma: Scale of the similarity terms (default 80).
        margin: Relaxation margin (default 0.4).
        remove_diagonal: Whether a sample is left out of its own positive pairs.
        reduction, name, dtype: See `Loss`. Samples whose loss is 0 are left out of the average.
    """

    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, name=name, reduction=reduction, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def call(self, y_true, y_pred):
        return circle(y_true, y_pred, **self._fn_kwargs)

    def call_with_mask(self, y_true, y_pred):
        values = self.call(y_true, y_pred)
        return values, values > 0  # Keras masks the zero losses out of the average


@public_module("keras.losses")
class CategoricalGeneralizedCrossEntropy(_NamedLoss):
    """Generalized cross entropy with integer labels, robust to noisy labels.

    Args:
        q: In `(0, 1)`: towards 0 it behaves like crossentropy, towards 1 like MAE (default 0.5).
        reduction, name, dtype: See `Loss`.
    """

    _config_keys = ("q",)

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction,
                         dtype=dtype, q=q)
        self.q = q

    def call(self, y_true, y_pred):
        return categorical_generalized_cross_entropy(y_true, y_pred, **self._fn_kwargs)


@public_module("keras.losses")
class CTC(_NamedLoss):
    """Connectionist temporal classification loss (label 0 is the blank and the padding).

    Args:
        reduction, name, dtype: See `Loss`.
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)


