"""MelSpectrogram: audio signals to (log-)mel spectrograms, as Keras 3's layer.

The STFT is `torch.stft` (centered, reflect-padded frames); the mel filter bank is the HTK
one Keras builds (`linear_to_mel_weight_matrix`), in float32 as Keras computes it, made once
per layer and kept as a non-persistent buffer (it is no weight: Keras's layer has none).
"""

import numpy as np
import torch

from keraslike.backend.config import floatx
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.layer import Layer
from keraslike.ops.math_more import stft

# HTK's mel scale: mel(f) = 1127 * ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(frequencies_hertz):
    return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + (frequencies_hertz / _MEL_BREAK_FREQUENCY_HERTZ))


class MelSpectrogram(Layer):
    """Converts raw audio signals to mel spectrograms (optionally in decibels).

    Computes `|STFT|^mag_exp` of each signal (centered frames, `sequence_stride` apart), maps
    its frequency bins onto `num_mel_bins` triangular mel filters spanning
    `[min_freq, max_freq]`, and with `power_to_db` converts to decibels:
    `10 * log10(max(S, min_power) / max(|ref_power|, min_power))`, clipped below at
    `max - top_db` where the maximum is taken over the whole input batch (as Keras).

    Args:
        fft_length: FFT size. Defaults to 2048.
        sequence_stride: Samples between successive frames. Defaults to 512.
        sequence_length: Window length; defaults to `fft_length`.
        window: `"hann"` (default), `"hamming"`, a 1D window of `sequence_length` values, or
            `None` (no window).
        sampling_rate: Sample rate of the signals. Defaults to 16000.
        num_mel_bins: Number of mel bands. Defaults to 128.
        min_freq: Lower edge of the lowest band, in Hz. Defaults to 20.0.
        max_freq: Upper edge of the highest band; defaults to `sampling_rate / 2`.
        power_to_db: Whether to convert the spectrogram to decibels. Defaults to `True`.
        top_db: Dynamic range kept below the maximum, in dB. Defaults to 80.0.
        mag_exp: Exponent of the magnitude (1: magnitude, 2: power). Defaults to 2.0.
        min_power: Floor of the power and of `ref_power` in the dB conversion. Defaults to 1e-10.
        ref_power: Reference power of 0 dB. Defaults to 1.0.

    Input shape:
        `(..., samples)`: one signal `(samples,)` or a batch `(batch, samples)`.

    Output shape:
        `(..., num_mel_bins, 1 + samples // sequence_stride)`.

    Example:

    >>> layer = keras.layers.MelSpectrogram(num_mel_bins=64, sampling_rate=8000,
    ...                                     sequence_stride=256, fft_length=2048)
    >>> layer(torch.rand(2, 16000)).shape
    torch.Size([2, 64, 63])
    """

    _allow_non_tensor_positional_args = True  # Python lists, as Keras's data layers

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        super().__init__(**kwargs)
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        matrix = self.linear_to_mel_weight_matrix(
            num_mel_bins=num_mel_bins,
            num_spectrogram_bins=fft_length // 2 + 1,
            sampling_rate=sampling_rate,
            lower_edge_hertz=min_freq,
            upper_edge_hertz=self.max_freq,
        )
        self.register_buffer("_mel_matrix", matrix, persistent=False)
        # Keras raises to a float32 tensor power (torch's generic `pow`, not `x * x` for 2.0).
        exponent = torch.tensor(mag_exp, dtype=torch_dtype(floatx()), device="cpu")
        self.register_buffer("_mag_exp", exponent, persistent=False)
        # 10 * log10(max(|ref_power|, min_power)), rounded as Keras computes it (float32).
        reference = torch.tensor(ref_power, dtype=torch_dtype(floatx()), device="cpu").abs()
        reference = 10.0 * torch.log10(torch.clamp(reference, min=min_power))
        self._reference_db = reference.item()

    def call(self, inputs):
        compute = self.compute_dtype
        dtype = torch_dtype(compute if compute in ("float32", "float64") else "float32")
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(np.asarray(inputs))
        inputs = inputs.to(dtype)
        samples = inputs.shape[-1] if inputs.ndim else 0
        if samples <= self.fft_length // 2:
            # torch.stft's reflect padding of centered frames needs more samples than it adds.
            raise RuntimeError(
                f'Layer "{self.name}" (MelSpectrogram): signals need more than fft_length // 2 '
                f"= {self.fft_length // 2} samples (frames are centered with reflect padding). "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )
        # Keras computes in float32 (or float64) under any policy: keep torch's autocast
        # (entered for mixed policies) from running the matrix product in half precision.
        with torch.autocast(inputs.device.type, enabled=False):
            mel = self._mel_spectrogram(inputs)
        return mel.transpose(-1, -2).to(torch_dtype(compute))  # (..., mels, frames)

    def _mel_spectrogram(self, signals):
        """`(..., samples)` -> `(..., frames, num_mel_bins)`, in the dtype of `signals`."""
        real, imag = stft(signals, self.sequence_length, self.sequence_stride, self.fft_length,
                          window=self.window, center=True)  # (..., frames, bins)
        exponent = self._mag_exp
        if exponent.device != real.device:
            exponent = exponent.to(real.device)
        spectrogram = torch.pow(torch.sqrt(real.square() + imag.square()), exponent)
        matrix = self._mel_matrix
        if matrix.dtype != signals.dtype or matrix.device != signals.device:
            matrix = matrix.to(device=signals.device, dtype=signals.dtype)
        mel = torch.tensordot(spectrogram, matrix, dims=1)  # (..., frames, mels)
        if not self.power_to_db:
            return mel
        log_spec = 10.0 * torch.log10(torch.clamp(mel, min=self.min_power)) - self._reference_db
        # The floor is relative to the maximum over the whole batch, as Keras computes it.
        return torch.maximum(log_spec, log_spec.max() - self.top_db)

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins=20,
        num_spectrogram_bins=129,
        sampling_rate=8000,
        lower_edge_hertz=125.0,
        upper_edge_hertz=3800.0,
        dtype="float32",
    ):
        """Returns the matrix mapping linear-frequency bins onto mel bands (HTK's mel scale).

        Each of the `num_mel_bins` columns is a triangle of peak 1.0, linear on the mel scale,
        whose edges are the neighbouring band centers of `num_mel_bins + 2` points evenly
        spaced on the mel scale between `lower_edge_hertz` and `upper_edge_hertz`. The DC bin
        gets no weight. `spectrogram @ matrix` maps `(..., num_spectrogram_bins)` to
        `(..., num_mel_bins)`.

        Args:
            num_mel_bins: Number of mel bands.
            num_spectrogram_bins: Number of linear bins (`fft_length // 2 + 1`), spanning
                `[0, sampling_rate / 2]`.
            sampling_rate: Sample rate of the signal.
            lower_edge_hertz: Lower edge of the lowest band.
            upper_edge_hertz: Upper edge of the highest band.
            dtype: The matrix's dtype. Defaults to `"float32"`.

        Returns:
            A tensor of shape `(num_spectrogram_bins, num_mel_bins)`.
        """
        dtype = torch_dtype(dtype)
        with torch.device("cpu"):  # a constant: made on the host, moved with the layer
            nyquist = torch.tensor(sampling_rate, dtype=dtype) / 2.0
            linear = _linspace(torch.tensor(0.0, dtype=dtype), nyquist, num_spectrogram_bins)[1:]
            bins_mel = _hertz_to_mel(linear)[:, None]  # (bins - 1, 1)
            edges = _linspace(
                _hertz_to_mel(torch.tensor(lower_edge_hertz, dtype=dtype)),
                _hertz_to_mel(torch.tensor(upper_edge_hertz, dtype=dtype)),
                num_mel_bins + 2,
            )
            lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
            lower_slopes = (bins_mel - lower) / (center - lower)
            upper_slopes = (upper - bins_mel) / (upper - center)
            weights = torch.clamp(torch.minimum(lower_slopes, upper_slopes), min=0.0)
            return torch.nn.functional.pad(weights, (0, 0, 1, 0))  # the DC bin: no weight

    def compute_output_shape(self, input_shape):
        # Frames of a centered STFT: 1 + samples // stride. (Keras 3.15 computes
        # (samples + stride + 1) // stride, one too many when samples % stride == stride - 1.)
        *batch, samples = input_shape
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return (*batch, self.num_mel_bins, frames)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length,
                "window": self.window,
                "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq,
                "max_freq": self.max_freq,
                "power_to_db": self.power_to_db,
                "top_db": self.top_db,
                "mag_exp": self.mag_exp,
                "min_power": self.min_power,
                "ref_power": self.ref_power,
            }
        )
        return config


def _linspace(start, stop, num):
    """`num` evenly spaced values from `start` to `stop` (0-d tensors), rounded as Keras's
    torch backend computes `linspace` of tensor endpoints (not as `torch.linspace`)."""
    steps = torch.arange(num, dtype=start.dtype) / (num - 1)
    return start + steps * (stop - start)
