"""Accumulating confusion-matrix counts at a list of thresholds (Keras's `metrics_utils`).

Two paths, as in Keras: thresholds evenly spread over [0, 1] use a bucket count (a scatter-add
and a reversed cumulative sum, O(N + T)); any other list compares each prediction with each
threshold (O(N * T)). Both run on the device with no host sync.
"""

import numpy as np
import torch

from keraslike.backend import config
from keraslike.losses.loss import squeeze_or_expand_to_same_rank

NEG_INF = -1e10
KEYS = ("tp", "fp", "tn", "fn")


_CONSTANTS = {}


def constant(values, dtype, device):
    """A tensor of the Python floats `values`, made once per dtype and device (no per-step copy)."""
    if torch.compiler.is_compiling():
        return torch.tensor(values, dtype=dtype, device=device)
    key = (tuple(values), dtype, device)
    tensor = _CONSTANTS.get(key)
    if tensor is None:
        tensor = _CONSTANTS[key] = torch.tensor(values, dtype=dtype, device=device)
    return tensor


def to_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """Checks user thresholds are in [0, 1] and returns them as a list (default: one threshold)."""
    if thresholds is not None:
        invalid = [t for t in to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    """True when the thresholds are `i / (n - 1)` for `i = 0..n-1` (n >= 3), up to epsilon."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def filter_top_k(x, k):
    """Keeps the top `k` scores of the last axis, setting the others to `NEG_INF`."""
    _, idx = torch.topk(x, k, dim=-1)
    mask = torch.zeros_like(x).scatter_(-1, idx, 1.0)
    return x * mask + NEG_INF * (1 - mask)


def _bucket_counts(y_true, y_pred, weights, num_thresholds, with_epsilon, multi_label):
    """Counts of true/false labels with prediction above each threshold, via buckets."""
    y_pred = torch.clamp(y_pred, 0.0, 1.0)
    y_true = (y_true != 0).to(y_pred.dtype)
    if not multi_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        if isinstance(weights, torch.Tensor):
            weights = weights.reshape(-1)
    true_labels = y_true * weights
    false_labels = (1.0 - y_true) * weights
    bucket = torch.ceil(y_pred * (num_thresholds - 1)) - 1
    if with_epsilon:
        bucket = torch.relu(bucket)
    bucket = bucket.long()
    # Bucket -1 (a prediction at 0 with no epsilon threshold) is above no threshold: drop it
    # into an extra slot that is cut off below.
    bucket = torch.where(bucket < 0, torch.full_like(bucket, num_thresholds), bucket)
    shape = (num_thresholds + 1,) + tuple(y_pred.shape[1:]) if multi_label else (num_thresholds + 1,)
    tp_bucket = torch.zeros(shape, dtype=y_pred.dtype, device=y_pred.device)
    fp_bucket = torch.zeros_like(tp_bucket)
    tp_bucket.scatter_add_(0, bucket, true_labels)
    fp_bucket.scatter_add_(0, bucket, false_labels)
    tp = torch.flip(torch.cumsum(torch.flip(tp_bucket[:-1], (0,)), 0), (0,))
    fp = torch.flip(torch.cumsum(torch.flip(fp_bucket[:-1], (0,)), 0), (0,))
    if multi_label:
        return tp, fp, true_labels.sum(dim=0), false_labels.sum(dim=0)
    return tp, fp, true_labels.sum(), false_labels.sum()


def _threshold_counts(y_true, y_pred, weights, thresholds, multi_label):
    """Counts by comparing every prediction with every threshold."""
    thr = constant(thresholds, y_pred.dtype, y_pred.device)
    if multi_label:
        pred_is_pos = y_pred.unsqueeze(0) > thr.reshape(-1, 1, 1)  # (T, N, L)
        label_is_pos = (y_true != 0).unsqueeze(0)
    else:
        pred_is_pos = y_pred.reshape(1, -1) > thr.reshape(-1, 1)  # (T, N*L)
        label_is_pos = (y_true != 0).reshape(1, -1)
        if isinstance(weights, torch.Tensor):
            weights = weights.reshape(1, -1)
    weights = weights if isinstance(weights, torch.Tensor) else torch.ones((), dtype=y_pred.dtype,
                                                                          device=y_pred.device)
    zero = torch.zeros((), dtype=y_pred.dtype, device=y_pred.device)

    def count(cond):
        return torch.where(cond, weights, zero).sum(dim=1)

    label_is_neg = ~label_is_pos
    pred_is_neg = ~pred_is_pos
    return {
        "tp": lambda: count(label_is_pos & pred_is_pos),
        "fp": lambda: count(label_is_neg & pred_is_pos),
        "tn": lambda: count(label_is_neg & pred_is_neg),
        "fn": lambda: count(label_is_pos & pred_is_neg),
    }


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None, class_id=None,
                                      sample_weight=None, multi_label=False, label_weights=None,
                                      thresholds_distributed_evenly=False):
    """Adds this batch's confusion counts to the state tensors in `variables`, in place.

    Args:
        variables: Dict from `"tp"`, `"fp"`, `"tn"`, `"fn"` to state tensors of shape
            `(num_thresholds,)` (or `(num_thresholds, num_labels)` with `multi_label`).
        y_true: Labels; nonzero counts as positive.
        y_pred: Scores in [0, 1].
        thresholds: Python list of floats.
        top_k: Only the top `k` scores of each sample count as predictions.
        class_id: Only this class (last axis) counts.
        sample_weight: Optional weights broadcastable to `y_pred`.
        multi_label: Keep labels (last axis) separate instead of flattening them.
        label_weights: Optional per-label weights (only without `multi_label`).
        thresholds_distributed_evenly: Use the bucket path (thresholds `i / (n - 1)`).
    """
    if multi_label and label_weights is not None:
        raise ValueError("`label_weights` for multilabel data should be handled outside of "
                         "`update_confusion_matrix_variables` when `multi_label` is True.")
    invalid = [k for k in variables if k not in KEYS]
    if invalid or not variables:
        raise ValueError(f'Invalid keys: "{invalid}". Valid variable key options are: "{list(KEYS)}"')
    dtype = next(iter(variables.values())).dtype
    y_true = y_true.to(dtype)
    y_pred = y_pred.to(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = sample_weight.to(dtype).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]

    weights = 1.0
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        lw = constant(label_weights, dtype, y_pred.device)
        weights = weights * torch.broadcast_to(lw.unsqueeze(0), y_pred.shape)
    if thresholds_distributed_evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        tp, fp, pos, neg = _bucket_counts(y_true, y_pred, weights, len(thresholds), with_epsilon, multi_label)
        counts = {"tp": lambda: tp, "fp": lambda: fp, "tn": lambda: neg - fp, "fn": lambda: pos - tp}
    else:
        counts = _threshold_counts(y_true, y_pred, weights, thresholds, multi_label)
    for key, variable in variables.items():
        variable.add_(counts[key]())
