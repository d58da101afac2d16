"""Loss functions: `fn(y_true, y_pred, ...)` returns the per-sample loss, reduced over the last axis.

Each follows Keras 3's formula exactly (clipping with `epsilon()` = 1e-7 in probability space,
label smoothing, the handling of a trailing axis of size 1), in plain torch and without host syncs.
"""

import math
import warnings

import torch
import torch.nn.functional as F

from keraslike.backend import config
from keraslike.losses.loss import as_tensor, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred):
    """Converts both to tensors, `y_true` in the (floating) dtype of `y_pred`."""
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def l2_normalize(x, axis=-1):
    """`x * rsqrt(sum(x**2))`, the inverse norm capped at `1 / epsilon` (Keras's `normalize`)."""
    if x.dim() == 0:
        x = x.unsqueeze(0)
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / config.epsilon())


def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis: `mean(square(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis: `mean(abs(y_true - y_pred), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=config.epsilon()))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    eps = config.epsilon()
    first_log = torch.log(torch.clamp(y_pred, min=eps) + 1.0)
    second_log = torch.log(torch.clamp(y_true, min=eps) + 1.0)
    return torch.mean(torch.square(first_log - second_log), dim=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity of the L2-normalised tensors along `axis` (-1 is most similar)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    return -torch.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), dim=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: `0.5 * e**2` where `|e| <= delta`, else `delta * |e| - 0.5 * delta**2`; mean over -1."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    error = y_pred - y_true
    abs_error = torch.abs(error)
    delta = float(delta)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably as `x + softplus(-2x) - log 2`."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_pair(y_true, y_pred))
    x = y_pred - y_true
    return torch.mean(x + F.softplus(-2.0 * x) - math.log(2.0), dim=-1)


def kl_divergence(y_true, y_pred):
    """`sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to `[epsilon, 1]`."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = config.epsilon()
    y_true = torch.clamp(y_true, eps, 1.0)
    y_pred = torch.clamp(y_pred, eps, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    """`mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + config.epsilon()), dim=-1)


def _hinge_labels(y_true):
    """Maps labels in {0, 1} to {-1, 1}; leaves other labels alone. Decided on device (no sync)."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """`mean(maximum(1 - y_true * y_pred, 0), axis=-1)`; labels 0/1 are read as -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.mean(torch.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true, y_pred):
    """`mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`; labels 0/1 are read as -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.mean(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true, y_pred):
    """`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def _check_axis(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _warn_single_class(name, y_pred):
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
            "Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y_true, label_smoothing):
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return y_true


def _normalized_log_probs(y_pred, axis):
    """Probabilities rescaled to sum to 1 along `axis`, clipped to `[eps, 1 - eps]`, then logged."""
    eps = config.epsilon()
    output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    return torch.log(torch.clamp(output, eps, 1.0 - eps))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy between one-hot (or soft) labels and predictions along `axis`.

    Args:
        y_true: One-hot labels, shape `(..., num_classes)`.
        y_pred: Probabilities (or logits when `from_logits=True`), same shape.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In `[0, 1]`; labels become `y * (1 - ls) + ls / num_classes`.
        axis: The class axis.

    Returns:
        The per-sample loss, shape `y_pred.shape` without `axis`.
    """
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred)
    _warn_single_class("categorical_crossentropy", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}. "
            "`categorical_crossentropy` takes one-hot targets, one column per output unit; "
            "for integer class labels use `sparse_categorical_crossentropy`."
        )
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        log_prob = _normalized_log_probs(y_pred, axis)
    return -torch.sum(y_true * log_prob, dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Focal crossentropy: `sum(alpha * (1 - p)**gamma * -y_true * log(p), axis)` (p clipped)."""
    _check_axis(axis)
    y_true, y_pred = _pair(y_true, y_pred)
    _warn_single_class("categorical_focal_crossentropy", y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    eps = config.epsilon()
    output = torch.clamp(y_pred / torch.sum(y_pred, dim=axis, keepdim=True), eps, 1.0 - eps)
    cce = -y_true * torch.log(output)
    focal = torch.pow(1.0 - output, gamma) * alpha * cce
    return torch.sum(focal, dim=axis)


def sparse_categorical_crossentropy_with_mask(y_true, y_pred, from_logits=False, ignore_class=None,
                                              axis=-1):
    """Sparse crossentropy returning `(loss, valid_mask)`; the mask is `None` without `ignore_class`."""
    y_pred = as_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.get_default_dtype())
    y_true = as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    if y_pred.dim() < 1:
        raise ValueError("Argument `output` must be at least rank 1. "
                         f"Received: output.shape={tuple(y_pred.shape)}")
    class_axis = axis % y_pred.dim()
    expected = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
    if tuple(y_true.shape) != expected:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = torch.where(valid, y_true, torch.zeros_like(y_true))
        # Keras puts 0 there; 1 gives the same (masked) loss and keeps gradients free of NaNs.
        y_pred = torch.where(valid.unsqueeze(class_axis), y_pred, torch.ones_like(y_pred))
    target = y_true.long()
    squeeze = y_pred.dim() == 1
    if squeeze:
        y_pred, target = y_pred.unsqueeze(0), target.unsqueeze(0)
    elif class_axis != 1 and y_pred.dim() > 2:
        # (N, H, W, C) scores: torch's NLLLoss2d backward rejects the strided view `movedim`
        # gives ("grad_input must be contiguous", torch 2.13 CPU; Keras 3 fails there). Picking
        # each target's log-probability with `gather` on the class axis is the same loss, no copy.
        log_probs = F.log_softmax(y_pred, dim=class_axis) if from_logits else _normalized_log_probs(y_pred, class_axis)
        result = -log_probs.gather(class_axis, target.unsqueeze(class_axis)).squeeze(class_axis)
        if valid is not None:
            result = torch.where(valid, result, torch.zeros_like(result))
        return result, valid
    elif class_axis != 1:
        y_pred = y_pred.movedim(class_axis, 1)
    if from_logits:
        result = F.cross_entropy(y_pred, target, reduction="none")
    else:
        result = F.nll_loss(_normalized_log_probs(y_pred, 1), target, reduction="none")
    if squeeze:
        result = result.squeeze(0)
    if valid is not None:
        result = torch.where(valid, result, torch.zeros_like(result))
    return result, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer labels and predictions along the class `axis`.

    Args:
        y_true: Integer class indices (float labels are truncated to int64), shape
            `y_pred.shape` without `axis` (a trailing axis of size 1 is accepted).
        y_pred: Probabilities (or logits when `from_logits=True`), shape `(..., num_classes)`.
        from_logits: Whether `y_pred` holds logits.
        ignore_class: Optional label whose entries get a loss of 0 (and, through a `Loss`
            object, are left out of the average).
        axis: The class axis.

    Returns:
        The per-sample loss, shape `y_pred.shape` without `axis`.
    """
    return sparse_categorical_crossentropy_with_mask(y_true, y_pred, from_logits, ignore_class, axis)[0]


def _binary_crossentropy_elementwise(y_true, y_pred, from_logits):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    eps = config.epsilon()
    return F.binary_cross_entropy(torch.clamp(y_pred, eps, 1.0 - eps), y_true, reduction="none")


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over `axis`.

    Args:
        y_true: Labels in `[0, 1]`, same shape as `y_pred`.
        y_pred: Probabilities (clipped to `[eps, 1 - eps]`) or logits when `from_logits=True`.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In `[0, 1]`; labels become `y * (1 - ls) + 0.5 * ls`.
        axis: The axis to average over.

    Returns:
        The per-sample loss, shape `y_pred.shape` without `axis`.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return torch.mean(_binary_crossentropy_elementwise(y_true, y_pred, from_logits), dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary focal crossentropy: `(1 - p_t)**gamma * bce`, optionally weighted by `alpha`."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _binary_crossentropy_elementwise(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal_bce = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal_bce
    return torch.mean(focal_bce, dim=axis)
