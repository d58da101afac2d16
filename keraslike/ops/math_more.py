"""More `keras.ops` math: `stft` / `istft` (on `torch.stft`), complex views, `cdist`."""


import torch

from keraslike.backend import config
from keraslike.ops.core import like, to_tensor, to_torch_dtype
from keraslike.ops.dispatch import keras_op


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


def _window(window, length, dtype, device):
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                f"Received: window={window}"
            )
        make = torch.hann_window if window == "hann" else torch.hamming_window
        return make(length, periodic=True, dtype=dtype, device=device)
    win = to_tensor(window, dtype=dtype, device=device)
    if win.ndim != 1 or win.shape[-1] != length:
        raise ValueError(
            "The shape of `window` must be equal to [sequence_length]. Received: window shape="
            f"{tuple(win.shape)}"
        )
    return win


@keras_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis; returns `(real, imag)`.

    Args:
        x: Real signal(s), `float32` or `float64`, shape `(..., samples)`.
        sequence_length: Frame length.
        sequence_stride: Hop between frames.
        fft_length: FFT size (at least `sequence_length`).
        window: `"hann"`, `"hamming"`, a 1D window tensor or `None`.
        center: Pad the signal so frames are centered on their time.

    Returns:
        `(real, imag)`, each `(..., num_frames, fft_length // 2 + 1)`.
    """
    x = _t(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. Received: "
            f"sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _window(window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    batch, samples = x.shape[:-1], x.shape[-1]
    spectrum = torch.stft(
        x.reshape(-1, samples), n_fft=fft_length, hop_length=sequence_stride,
        win_length=sequence_length, window=win, center=center, return_complex=True,
    )  # (B, bins, frames)
    spectrum = spectrum.reshape(batch + spectrum.shape[-2:]).transpose(-2, -1)
    return spectrum.real, spectrum.imag


def _overlap_add(frames, stride):
    """Sums frames `(..., num_frames, frame_length)` placed `stride` apart."""
    *batch, count, length = frames.shape
    total = length + stride * (count - 1)
    flat = frames.reshape(-1, count, length).transpose(1, 2)  # (B, length, count)
    out = torch.nn.functional.fold(flat, (1, total), (1, length), stride=(1, stride))
    return out.reshape(*batch, total)


@keras_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """Inverse short-time Fourier transform of `x = (real, imag)`; returns the real signal.

    Args:
        x: `(real, imag)`, each `(..., num_frames, fft_length // 2 + 1)`.
        sequence_length: Frame length.
        sequence_stride: Hop between frames.
        fft_length: FFT size.
        length: Optional output length (trims or pads).
        window: `"hann"`, `"hamming"`, a 1D window tensor or `None`.
        center: Whether `stft` centered the frames.

    Returns:
        The signal, `(..., samples)`.
    """
    real, imag = (_t(v) for v in x)
    spectrum = torch.complex(real, imag)
    dtype, device = real.dtype, real.device
    win = _window(window, sequence_length, dtype, device)
    if sequence_length == fft_length and center and win is not None:
        batch, frames_bins = spectrum.shape[:-2], spectrum.shape[-2:]
        out = torch.istft(
            spectrum.reshape((-1,) + frames_bins).transpose(-2, -1), n_fft=fft_length,
            hop_length=sequence_stride, win_length=sequence_length, window=win, center=center,
            length=length, return_complex=False,
        )
        return out.reshape(batch + out.shape[-1:])
    frames = torch.fft.irfft(spectrum, n=fft_length, dim=-1)  # (..., num_frames, fft_length)
    expected = fft_length + sequence_stride * (frames.shape[-2] - 1)
    if win is not None:
        left = (fft_length - sequence_length) // 2
        win = torch.nn.functional.pad(win, (left, fft_length - sequence_length - left))
        overlaps = -(-fft_length // sequence_stride)
        denominator = torch.nn.functional.pad(win.square(), (0, overlaps * sequence_stride - fft_length))
        denominator = denominator.reshape(overlaps, sequence_stride).sum(0, keepdim=True)
        denominator = denominator.tile(overlaps, 1).reshape(-1)[:fft_length]
        frames = frames * (win / denominator)
    signal = _overlap_add(frames, sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = signal.shape[-1] - fft_length // 2
    else:
        end = expected
    return signal[..., start:end]


@keras_op
def view_as_complex(x):
    """The complex tensor whose real and imaginary parts are `x[..., 0]` and `x[..., 1]`."""
    x = _t(x)
    if x.shape[-1] != 2:
        raise ValueError(
            f"Last dimension of input must be size 2 (real and imaginary). Received shape: {tuple(x.shape)}"
        )
    return torch.view_as_complex(x.contiguous())


@keras_op
def view_as_real(x):
    """A real tensor `(..., 2)` holding the real and imaginary parts of the complex `x`."""
    x = _t(x)
    if not x.is_complex():
        raise ValueError(f"Input must be a complex tensor. Received dtype: {x.dtype}")
    return torch.view_as_real(x)


@keras_op
def cdist(x1, x2, p=2.0):
    """Pairwise `p`-norm distances between the rows of `x1` `(..., P, M)` and `x2` `(..., R, M)`.

    Integer and boolean inputs give `floatx()` distances (computed in floats, so unsigned
    differences do not wrap); `float16`/`bfloat16` ones are computed in their own dtype by the
    explicit difference, as Keras does (torch's kernel has no half-precision CPU version).
    """
    x1 = _t(x1)
    x2 = like(x2, x1)
    if x1.ndim < 2 or x2.ndim < 2:
        raise ValueError(
            f"`cdist` inputs must have rank >= 2. Received: x1.shape={tuple(x1.shape)}, "
            f"x2.shape={tuple(x2.shape)}"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            "Last dimension of inputs to `cdist` must match. Received: "
            f"x1.shape={tuple(x1.shape)}, x2.shape={tuple(x2.shape)}"
        )
    dtype = x1.dtype if x1.dtype == x2.dtype else torch.promote_types(x1.dtype, x2.dtype)
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = to_torch_dtype(config.floatx())
    x1, x2 = x1.to(dtype), x2.to(dtype)
    if dtype in (torch.float16, torch.bfloat16):
        diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
        if p == 2:
            return torch.sqrt(torch.sum(diff * diff, dim=-1))
        return torch.linalg.vector_norm(diff, ord=p, dim=-1)
    return torch.cdist(x1, x2, p=p)


