"""Window functions (`bartlett`, `blackman`, `hamming`, `hanning`, `kaiser`), as NumPy's."""

import torch

from keraslike.ops.dispatch import keras_op


def _length(x):
    return int(x)


@keras_op
def bartlett(x):
    """The Bartlett (triangular) window of `x` points (`float32`)."""
    return torch.signal.windows.bartlett(_length(x))


@keras_op
def blackman(x):
    """The Blackman window of `x` points (`float32`)."""
    return torch.signal.windows.blackman(_length(x))


@keras_op
def hamming(x):
    """The Hamming window of `x` points (`float32`)."""
    return torch.signal.windows.hamming(_length(x))


@keras_op
def hanning(x):
    """The Hann window of `x` points (`float32`), NumPy's `hanning`."""
    return torch.signal.windows.hann(_length(x))


@keras_op
def kaiser(x, beta):
    """The Kaiser window of `x` points with shape parameter `beta` (`float32`)."""
    return torch.signal.windows.kaiser(_length(x), beta=beta)
