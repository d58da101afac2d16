"""The `Loss` base class and Keras 3's reduction rules (sample weights, masks, `sum_over_batch_size`).

Everything here runs on torch tensors and never reads a value back to the host, so a loss call
can sit inside a compiled training step.
"""

import numpy as np
import torch

from keraslike.backend import config
from keraslike.backend.naming import to_snake_case, uniquify

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")

_TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


def standardize_dtype(dtype):
    """Returns a Keras dtype string (`"float32"`) for a string, a torch dtype or `None` (floatx)."""
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if hasattr(dtype, "name") and not isinstance(dtype, str):  # numpy dtype, DTypePolicy
        dtype = getattr(dtype, "compute_dtype", None) or dtype.name
    dtype = str(dtype)
    if dtype.startswith("mixed_"):  # a mixed-precision policy name: its compute dtype
        dtype = dtype[len("mixed_"):]
    if dtype == "int":
        return "int32"
    if dtype == "float":
        return "float32"
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {sorted(_TORCH_DTYPES)}.")
    return dtype


def torch_dtype(dtype):
    """Returns the torch dtype for a Keras dtype string."""
    return _TORCH_DTYPES[standardize_dtype(dtype)]


def as_tensor(x, dtype=None, device=None):
    """Converts `x` (tensor, numpy array, scalar, list) to a torch tensor, casting only when needed."""
    if isinstance(x, torch.Tensor):
        if dtype is not None and x.dtype != dtype:
            x = x.to(dtype)
        if device is not None and x.device != device:
            x = x.to(device)
        return x
    if isinstance(x, np.ndarray) and dtype is None and x.dtype == np.float64:
        dtype = torch_dtype(config.floatx())
    return torch.as_tensor(x, dtype=dtype, device=device)


def standardize_reduction(reduction):
    """Checks `reduction` against the values Keras accepts and returns it."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. "
            f"Expected one of {set(REDUCTIONS)}. Received: reduction={reduction}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands the last axis when the ranks of `x1` and `x2` differ by exactly one.

    This is Keras's rule: a trailing axis of size 1 is dropped from the higher-rank tensor, except
    that a rank-1 partner is expanded instead when `expand_rank_1` is set.
    """
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def divide_no_nan(x, y):
    """`x / y`, with 0 where `y == 0` (and a gradient free of NaNs there).

    The result stays connected to `x`'s graph also when `y` is the number 0 (a loss over an
    empty batch is a differentiable zero, as in Keras), and no value is read to the host.
    """
    if not isinstance(y, torch.Tensor):
        if y != 0:
            return x / y
        if isinstance(x, torch.Tensor):
            return torch.where(torch.zeros_like(x, dtype=torch.bool), x, torch.zeros_like(x))
        return x * 0
    zero = y == 0
    return torch.where(zero, torch.zeros_like(x), x / torch.where(zero, torch.ones_like(y), y))


def _num_elements(shape):
    n = 1
    for d in shape:
        n = n * d
    return n


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean `mask` into `sample_weight` the way Keras does.

    For `"sum_over_batch_size"` and `"mean"`, valid entries get the weight `total / valid`, so
    that dividing by the number of elements later averages over the valid entries only.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = _num_elements(mask.shape)
        valid = mask.to(dtype).sum()
        float_mask = torch.where(mask.bool(), divide_no_nan(torch.full_like(valid, total), valid), 0.0)
        float_mask = float_mask.to(dtype)
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = sample_weight.to(dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduces (already weighted) per-element losses to a scalar as `reduction` says."""
    if reduction is None or reduction == "none" or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            loss = divide_no_nan(loss, sample_weight.sum().to(loss.dtype))
        else:
            loss = divide_no_nan(loss, _num_elements(values.shape))
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size",
                           dtype=None):
    """Weights per-element losses by `sample_weight` and `mask`, then reduces them (Keras's rule).

    Args:
        values: Per-element losses, e.g. shape `(batch,)` or `(batch, time)`.
        sample_weight: Optional weights, broadcastable to `values` after Keras's
            squeeze-or-expand of the last axis (e.g. `(batch,)`, `(batch, 1)`, `(batch, time)`).
        mask: Optional boolean mask of the entries that count, shaped like `values`.
        reduction: One of `"sum_over_batch_size"`, `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, `"none"` or `None`.
        dtype: Torch dtype to compute in; defaults to the dtype of `values`.

    Returns:
        The reduced loss (a 0-d tensor) or, for `"none"`/`None`, the weighted values.
    """
    reduction = standardize_reduction(reduction)
    values = as_tensor(values, dtype=dtype)
    dtype = values.dtype
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype=dtype, device=values.device)
    if mask is not None:
        mask = as_tensor(mask, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction=reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Loss base class: subclass it and implement `call(y_true, y_pred)`.

    Args:
        name: Optional name for the loss instance.
        reduction: Type of reduction to apply to the loss: `"sum_over_batch_size"` (default:
            sum of the weighted losses divided by their number of elements), `"sum"`, `"mean"`
            (same as `"sum_over_batch_size"`), `"mean_with_sample_weight"` (divided by the sum of
            the sample weights), or `"none"`/`None` (no reduction).
        dtype: The dtype of the loss's computations; defaults to `keras.config.floatx()`.

    Calling a loss: `loss(y_true, y_pred, sample_weight=None, mask=None)`. `mask` (a boolean
    tensor shaped like the per-element losses, e.g. `(batch, time)`) plays the role of Keras's
    `_keras_mask` on `y_pred`: masked-out entries are dropped and, for `"sum_over_batch_size"`,
    the average is taken over the valid entries only. A `_keras_mask` attribute set on `y_pred`
    is honoured too.

    Example:

    ```python
    class MeanSquaredError(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return torch.mean(torch.square(y_pred - y_true), dim=-1)
    ```
    """

    # Integer labels stay integer (sparse crossentropy casts them to int64 itself).
    _keep_integer_labels = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or uniquify(to_snake_case(self.__class__.__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = standardize_dtype(dtype)
        self._torch_dtype = torch_dtype(self._dtype)

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        if mask is None:
            mask = getattr(y_pred, "_keras_mask", None)
        dtype = self._torch_dtype
        y_pred = as_tensor(y_pred, dtype=dtype)
        if self._keep_integer_labels:
            y_true = as_tensor(y_true, device=y_pred.device)
            if y_true.is_floating_point():
                y_true = y_true.to(dtype)
        else:
            y_true = as_tensor(y_true, dtype=dtype, device=y_pred.device)  # as Keras does
        losses, out_mask = self.call_with_mask(y_true, y_pred)
        if (
            mask is None
            and out_mask is None
            and sample_weight is None
            and self.reduction == "sum_over_batch_size"
            and losses.numel() > 0
        ):
            return losses.to(dtype).mean()  # the common case: one kernel, same value
        if mask is not None:
            mask = as_tensor(mask, device=losses.device).bool()
            if out_mask is not None:
                mask = mask & out_mask
        else:
            mask = out_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        """Returns the per-sample losses (no reduction). Subclasses implement this."""
        raise NotImplementedError

    def call_with_mask(self, y_true, y_pred):
        """Returns `(losses, mask)`: the per-sample losses and a mask the loss itself produces
        (e.g. `ignore_class`), or `None`."""
        return self.call(y_true, y_pred), None

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"
