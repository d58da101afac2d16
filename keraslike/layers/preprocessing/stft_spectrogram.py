"""STFTSpectrogram: a short-time Fourier transform computed by (trainable) 1D convolutions.

The real and imaginary parts of the transform are two `conv1d` kernels made by the `STFT`
initializer, stored like `nn.Conv1d` weights `(fft_length // 2 + 1, 1, frame_length)` under
`real_weight` / `imag_weight`; `layer.real_kernel`, `get_weights()` and Keras files see Keras's
`(frame_length, 1, fft_length // 2 + 1)`. Each input channel is transformed independently.
"""

import math
import warnings

import torch
import torch.nn.functional as F

from keraslike import initializers
from keraslike.backend import config as backend_config
from keraslike.layers.convolutional.padding import conv_output_length, same_pads
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import standardize_data_format
from keraslike.layers.variable import keras_layout_view
from keraslike.layers.weight_layout import conv_layout

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_FLOAT_TYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_KERNEL_LAYOUT = conv_layout(1)  # Keras (frame, 1, bins) <-> torch (bins, 1, frame)


class STFTSpectrogram(Layer):
    """Computes the spectrogram of 1D signals with a Short-Time Fourier Transform (STFT).

    The transform is a strided convolution whose kernels (the window times the Fourier basis)
    are weights: frozen for preprocessing (`trainable=False`), or fine-tuned with the model.
    The output is the log-magnitude, magnitude, power spectral density, real or imaginary
    part, phase, or both parts of the transform.

    Args:
        mode: `"log"` (default), `"magnitude"`, `"psd"`, `"real"`, `"imag"`, `"angle"` or
            `"stft"` (real parts then imaginary parts along the frequency axis).
        frame_length: Samples per frame (window). Defaults to 256.
        frame_step: Hop between frames. Defaults to `frame_length // 2`.
        fft_length: FFT size, at least `frame_length`. Defaults to the smallest power of two
            not below `frame_length`.
        window: `"hann"` (default), `"hamming"` (or another `scipy.signal` window name), an
            array of `frame_length` values, or `None`.
        periodic: Whether the window is periodic (else symmetric). Defaults to `False`.
        scaling: `"density"` (default), `"spectrum"` or `None`: the window normalization.
        padding: `"valid"` (default) or `"same"` (TensorFlow's, more at the end).
        expand_dims: Whether to keep channels on their own axis (an image-like 4D output).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, time, channels)` (channels_last) or `(batch, channels, time)`.

    Output shape:
        channels_last: `(batch, frames, channels * bins)`, or `(batch, frames, bins,
        channels)` with `expand_dims`; channels_first: `(batch, channels * bins, frames)`, or
        `(batch, channels, frames, bins)`. `bins` is `fft_length // 2 + 1` (twice that in
        `"stft"` mode); `frames` depends on `padding` and `frame_step`.

    Example:

    >>> layer = keras.layers.STFTSpectrogram(frame_length=256, frame_step=128,
    ...                                      fft_length=512, trainable=False)
    >>> layer(torch.rand(3, 16000, 1)).shape
    torch.Size([3, 124, 257])
    """

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received frame_step={frame_step}, frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. "
                f"Received fft_length={fft_length}, frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(
                f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}"
            )
        if mode not in MODES:
            raise ValueError(
                f"Output mode is invalid, it must be one of {', '.join(MODES)}. Received: mode={mode}"
            )
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received scaling={scaling}"
            )
        if padding not in ("valid", "same"):
            raise ValueError(
                f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}"
            )
        if isinstance(window, str):
            initializers.STFT("real", window, scaling, periodic)  # an unknown window fails here
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = standardize_data_format(self, data_format)
        self._channels_last = self.data_format == "channels_last"
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                self.add_weight(
                    shape=shape,
                    initializer=initializers.STFT(side, self.window, self.scaling, self.periodic),
                    name=f"{side}_kernel",
                    torch_name=f"{side}_weight",
                    layout=_KERNEL_LAYOUT,
                )
        self.built = True

    @property
    def real_kernel(self):
        """The real-part kernel in Keras's layout `(frame_length, 1, fft_length // 2 + 1)`."""
        return self._keras_kernel("real")

    @property
    def imag_kernel(self):
        """The imaginary-part kernel in Keras's layout `(frame_length, 1, fft_length // 2 + 1)`."""
        return self._keras_kernel("imag")

    def _keras_kernel(self, side):
        weight = self._parameters.get(f"{side}_weight", self._buffers.get(f"{side}_weight"))
        if weight is None:
            raise AttributeError(
                f"Layer {self.name!r} (STFTSpectrogram, mode={self.mode!r}) has no "
                f"`{side}_kernel`" + ("" if self.built else " before it is built") + "."
            )
        return keras_layout_view(weight, _KERNEL_LAYOUT)

    def _convolve(self, signals, weight):
        """`signals` `(B * C, 1, T)` convolved with `weight` `(bins, 1, frame)`:
        `(B * C, bins, T')`."""
        if weight.dtype != signals.dtype:  # a mixed policy: float32 kernels, half inputs
            weight = weight.to(signals.dtype)
        padding = 0
        if self.padding == "same":
            before, after = same_pads(signals.shape[-1], self.frame_length, self._frame_step)
            if before == after:
                padding = before
            else:
                signals = F.pad(signals, (before, after))
        return F.conv1d(signals, weight, stride=self._frame_step, padding=padding)

    def call(self, inputs):
        if inputs.dtype not in _FLOAT_TYPES:
            raise TypeError(
                "Invalid input type. Expected `float16`, `float32` or `float64`. "
                f"Received: input type={inputs.dtype}"
            )
        x = inputs.transpose(1, 2) if self._channels_last else inputs  # (B, C, T)
        batch, channels, time = x.shape
        self._check_length(time)
        signals = x.reshape(batch * channels, 1, time)
        real = imag = None
        if self.mode != "imag":
            real = self._convolve(signals, self.real_weight)  # (B * C, bins, T')
        if self.mode != "real":
            imag = self._convolve(signals, self.imag_weight)
        if self.mode == "real":
            out = real
        elif self.mode == "imag":
            out = imag
        elif self.mode == "angle":
            out = torch.atan2(imag, real)
        elif self.mode == "stft":
            out = torch.cat([real, imag], dim=1)
        else:
            power = real.square() + imag.square()
            if self.mode == "psd":
                # One-sided PSD: every bin but DC and the last counts its mirror image too.
                out = power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
            else:
                eps = backend_config.epsilon()
                out = torch.sqrt(torch.clamp(power, min=eps))
                if self.mode == "log":
                    out = torch.log(torch.clamp(out, min=eps))
        return self._arrange(out, batch, channels)

    def _arrange(self, out, batch, channels):
        """`(B * C, bins, T')` in the layer's output layout."""
        bins, frames = out.shape[1], out.shape[2]
        if self.expand_dims:
            out = out.reshape(batch, channels, bins, frames)
            # channels_last (B, T', bins, C); channels_first (B, C, T', bins)
            return out.permute(0, 3, 2, 1) if self._channels_last else out.transpose(2, 3)
        out = out.reshape(batch, channels * bins, frames)
        return out.transpose(1, 2) if self._channels_last else out

    def _frames(self, time):
        return conv_output_length(time, self.frame_length, self._frame_step, 1, self.padding)

    def _check_length(self, time):
        frames = self._frames(time)
        if frames is not None and frames <= 0:
            raise ValueError(
                f'Layer "{self.name}" (STFTSpectrogram): the signal is shorter than one frame: '
                f"{time} samples with frame_length={self.frame_length} and padding='valid' give "
                "no frame (the computed output size would be zero or negative)."
            )

    def compute_output_shape(self, input_shape):
        if self._channels_last:
            batch, time, channels = input_shape
        else:
            batch, channels, time = input_shape
        self._check_length(time)
        frames = self._frames(time)
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if self.expand_dims:
            if self._channels_last:
                return (batch, frames, bins, channels)
            return (batch, channels, frames, bins)
        flat = None if channels is None else channels * bins
        return (batch, frames, flat) if self._channels_last else (batch, flat, frames)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "frame_length": self.frame_length,
                "frame_step": self.frame_step,
                "fft_length": self.fft_length,
                "window": self.window,
                "periodic": self.periodic,
                "scaling": self.scaling,
                "padding": self.padding,
                "data_format": self.data_format,
                "expand_dims": self.expand_dims,
            }
        )
        return config
