"""`slogdet`: sign and log-magnitude of determinants (Keras files it under `keras.ops.numpy`)."""

import torch

from keraslike.ops.dispatch import keras_op
from keraslike.ops.numpy._helpers import _t


@keras_op
def slogdet(x):
    """Sign and natural log of the absolute determinant of square matrices: `(sign, logabsdet)`."""
    return tuple(torch.linalg.slogdet(_t(x)))
