"""`keras.initializers.STFT`: convolution kernels that compute a short-time Fourier transform."""

import math

import numpy as np
import torch

from keraslike.initializers.initializer import Initializer, _shape, _torch_dtype

# Windows torch computes itself (same values as `scipy.signal.get_window`); any other name
# needs SciPy, an optional dependency, as in Keras.
_TORCH_WINDOWS = {
    "hann": torch.hann_window,
    "hanning": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
    "bartlett": torch.bartlett_window,
    "boxcar": lambda n, periodic, dtype: torch.ones(n, dtype=dtype),
    "rectangular": lambda n, periodic, dtype: torch.ones(n, dtype=dtype),
}


def _window(name, length, periodic):
    """The window `name` of `length` samples, in float64 (SciPy's precision)."""
    fn = _TORCH_WINDOWS.get(name)
    if fn is not None:
        if length == 1:
            return torch.ones(1, dtype=torch.float64)
        return fn(length, periodic=periodic, dtype=torch.float64)
    try:
        from scipy import signal
    except ImportError:
        raise ValueError(
            f"STFT window {name!r} needs SciPy (`pip install scipy`); without it the windows are "
            f"{sorted(_TORCH_WINDOWS)}, or pass the window's values as an array."
        ) from None
    return torch.from_numpy(np.asarray(signal.get_window(name, length, periodic),
                                       dtype="float64"))


class STFT(Initializer):
    """Initializer of Conv kernels for the Short-Time Fourier Transform (STFT).

    The kernel of shape `(T, 1, F // 2 + 1)` (window length `T`, `F` frequency bands) computes
    the real (`cos`) or imaginary (`sin`) part of the transform of each frame, multiplied by a
    window and divided by its L2 (`"density"`) or L1 (`"spectrum"`) norm. Used by the
    `STFTSpectrogram` layer.

    Args:
        side: `"real"` or `"imag"`: which part of the output the kernel computes. Defaults to
            `"real"`.
        window: The name of a window function (`"hann"`, `"hamming"`, `"blackman"`,
            `"bartlett"`, `"boxcar"`; other `scipy.signal.windows` names with SciPy installed),
            an array of `T` window values, or `None` for no window. Defaults to `"hann"`.
        scaling: `"density"`, `"spectrum"` or `None`. Defaults to `"density"`.
        periodic: Whether the window is periodic (else symmetric). Defaults to `False`.

    Example:

    >>> initializer = keras.initializers.STFT("real", "hann", "density", False)
    >>> values = initializer(shape=(128, 1, 513))
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # an unknown name fails here, as in Keras
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received "
                f"scaling={scaling}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _torch_dtype(dtype)
        frame_length, _, fft_length = shape
        window, scale = None, 1
        if self.window is not None:
            if isinstance(self.window, str):
                window = _window(self.window, frame_length, self.periodic)
            else:
                window = torch.as_tensor(np.asarray(self.window))
            window = window.to(dtype)
            if window.ndim != 1 or window.shape[-1] != frame_length:
                raise ValueError(
                    "The shape of `window` must be equal to [frame_length]."
                    f"Received: window shape={tuple(window.shape)}"
                )
            window = window.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scale = torch.sqrt(torch.sum(window**2))
            elif self.scaling == "spectrum":
                scale = torch.sum(torch.abs(window))
        freq = torch.arange(fft_length, dtype=dtype).reshape(1, 1, fft_length)
        freq = freq / ((fft_length - 1) * 2)
        time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
        angles = (-2 * time) * freq * torch.tensor(math.pi, dtype=dtype)
        kernel = torch.cos(angles) if self.side == "real" else torch.sin(angles)
        if window is not None:
            kernel = kernel * window / scale
        return kernel

    def get_config(self):
        window = self.window
        if isinstance(window, (np.ndarray, torch.Tensor)):
            window = np.asarray(window).tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}
