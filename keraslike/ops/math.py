"""Math ops (Keras 3's `keras.ops.math`, plus a few of `keras.ops.linalg`) on torch tensors and
symbolic tensors.

Complex results follow Keras's convention: FFTs take and return `(real, imag)` pairs of float
tensors.
"""

import torch

from keraslike.backend import config
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _cast, _float_result


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _floatify(x):
    x = _t(x)
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return x.to(to_torch_dtype(config.floatx()))


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` over `axis` (all axes when `None`), computed stably."""
    x = _floatify(x)
    dims = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


@keras_op
def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their indices: `(values, indices)`.

    As on Keras's torch backend, this is torch's `(values, indices)` named tuple (indices `int64`).
    """
    return torch.topk(_t(x), k, sorted=sorted)


@keras_op
def in_top_k(targets, predictions, k):
    """Whether each target class is among the `k` largest predictions of its row (ties count)."""
    predictions = _t(predictions)
    targets = like(targets, predictions).long()
    kth = torch.topk(predictions, k).values[..., -1]
    target_values = torch.take_along_dim(predictions, targets[:, None], dim=-1)[:, 0]
    return target_values >= kth


def _segment_reduce(data, segment_ids, num_segments, reduce, fill):
    data = _t(data)
    segment_ids = like(segment_ids, data).long()
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1  # data-dependent shape: one host sync
    num_segments = int(num_segments)
    # Ids outside [0, num_segments) go to an extra bucket that is dropped.
    valid = (segment_ids >= 0) & (segment_ids < num_segments)
    segment_ids = torch.where(valid, segment_ids, num_segments)
    compute = data if data.dtype.is_floating_point else data.float()
    shape = (num_segments + 1,) + tuple(data.shape[1:])
    out = torch.full(shape, fill, dtype=compute.dtype, device=data.device)
    index = segment_ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    out = out.scatter_reduce(0, index, compute, reduce=reduce, include_self=True)
    return out[:-1].to(data.dtype)


@keras_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of the rows of `data` grouped by `segment_ids` (out-of-range ids are dropped).

    Without `num_segments` it is `max(segment_ids) + 1`, which needs a host sync.
    """
    return _segment_reduce(data, segment_ids, num_segments, "sum", 0.0)


@keras_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of the rows of `data` grouped by `segment_ids` (`-inf` for empty segments)."""
    return _segment_reduce(data, segment_ids, num_segments, "amax", float("-inf"))


@keras_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minima of the rows of `data` grouped by `segment_ids` (`inf` for empty segments)."""
    return _segment_reduce(data, segment_ids, num_segments, "amin", float("inf"))


@keras_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Products of the rows of `data` grouped by `segment_ids` (1 for empty segments)."""
    return _segment_reduce(data, segment_ids, num_segments, "prod", 1.0)


@keras_op
def erf(x):
    """The error function."""
    return torch.erf(_floatify(x))


@keras_op
def erfc(x):
    """The complementary error function `1 - erf(x)`."""
    return torch.erfc(_floatify(x))


@keras_op
def erfinv(x):
    """The inverse error function."""
    return torch.erfinv(_floatify(x))


@keras_op
def rsqrt(x):
    """`1 / sqrt(x)`."""
    return torch.rsqrt(_floatify(x))


@keras_op
def logdet(x):
    """Log-determinant of (batches of) Hermitian positive-definite matrices."""
    return torch.logdet(_t(x))


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (`torch.linalg.norm` semantics, as NumPy's).

    Computed in Keras's dtype: integers give `floatx()`, `float64` gives `float32` (Keras's
    `result_type(x.dtype, float)`), other floats keep theirs.
    """
    x = _t(x)
    return torch.linalg.norm(_cast(x, _float_result(x.dtype)), ord=ord, dim=axis, keepdim=keepdims)


def _complex(x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            "Input `x` should be a tuple of two tensors - real and imaginary. " f"Received: x={x}"
        )
    real, imag = _t(x[0]), _t(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            "The real and imaginary parts must have the same shape. Received: "
            f"x[0].shape={tuple(real.shape)}, x[1].shape={tuple(imag.shape)}"
        )
    if not (real.dtype.is_floating_point and imag.dtype.is_floating_point):
        raise ValueError(f"Both parts of `x` must be float tensors. Received: x={x}")
    return torch.complex(real, imag)


@keras_op
def fft(x):
    """FFT over the last axis of `x = (real, imag)`; returns `(real, imag)`."""
    out = torch.fft.fft(_complex(x))
    return out.real, out.imag


@keras_op
def ifft(x):
    """Inverse FFT over the last axis of `x = (real, imag)`; returns `(real, imag)`."""
    out = torch.fft.ifft(_complex(x))
    return out.real, out.imag


@keras_op
def fft2(x):
    """2-D FFT over the last two axes of `x = (real, imag)`; returns `(real, imag)`."""
    out = torch.fft.fft2(_complex(x))
    return out.real, out.imag


@keras_op
def ifft2(x):
    """2-D inverse FFT over the last two axes of `x = (real, imag)`; returns `(real, imag)`."""
    out = torch.fft.ifft2(_complex(x))
    return out.real, out.imag


@keras_op
def rfft(x, fft_length=None):
    """Real-input FFT over the last axis; returns `(real, imag)` of `fft_length // 2 + 1` bins."""
    out = torch.fft.rfft(_t(x), n=fft_length, dim=-1)
    return out.real, out.imag


@keras_op
def irfft(x, fft_length=None):
    """Inverse of `rfft`: real signal from `x = (real, imag)`."""
    return torch.fft.irfft(_complex(x), n=fft_length, dim=-1)


@keras_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of `sequence_length` taken every `sequence_stride` along the last axis (a view)."""
    return _t(x).unfold(-1, sequence_length, sequence_stride)


# ----------------------------------------------------------------------------------------------
# Linear algebra (Keras's `keras.ops.linalg`, also exported at `keras.ops`).


@keras_op
def det(x):
    """Determinant of (batches of) square matrices."""
    return torch.linalg.det(_t(x))


@keras_op
def inv(x):
    """Inverse of (batches of) square matrices."""
    return torch.linalg.inv(_t(x))


@keras_op
def solve(a, b):
    """Solves `a @ x = b` for `x`."""
    a = _t(a)
    return torch.linalg.solve(a, like(b, a))


@keras_op
def cholesky(x, upper=False):
    """Cholesky factor of (batches of) Hermitian positive-definite matrices."""
    return torch.linalg.cholesky(_t(x), upper=upper)


@keras_op
def qr(x, mode="reduced"):
    """QR decomposition: `(q, r)`."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"`mode` must be 'reduced' or 'complete'. Received: mode={mode}")
    return tuple(torch.linalg.qr(_t(x), mode=mode))
