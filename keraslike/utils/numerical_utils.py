"""`to_categorical` and `normalize`: NumPy in gives NumPy out, torch in gives torch out."""

import numpy as np
import torch

from keraslike.backend import config


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a binary class matrix.

    E.g. for use with `categorical_crossentropy`. A trailing axis of size 1 is
    dropped first, so labels of shape `(N, 1)` give a `(N, num_classes)` matrix.

    With a NumPy array (or list) the result is a `float64` NumPy array, as in
    Keras. With a torch tensor the result is a torch tensor on the same device,
    of dtype `int64` (Keras's torch backend), and negative labels give all-zero
    rows. `num_classes=None` with a tensor infers `max(x) + 1` (Keras raises a
    `TypeError` there); this reads the maximum back from the device.

    Args:
        x: Array-like of class values (integers from 0 to `num_classes - 1`).
        num_classes: Total number of classes. If `None`, `max(x) + 1`.

    Returns:
        The one-hot encoding of `x`, with the class axis last.

    Example:

    >>> keras.utils.to_categorical([0, 1, 2, 3], num_classes=4)
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]])
    """
    if isinstance(x, torch.Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        x = x.long()
        if not num_classes:
            num_classes = int(x.max().item()) + 1 if x.numel() else 0
        one_hot = torch.nn.functional.one_hot(x.clamp(min=0), int(num_classes))
        return torch.where((x >= 0).unsqueeze(-1), one_hot, torch.zeros_like(one_hot))

    x = np.array(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = np.max(x) + 1
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalizes an array along an axis.

    With a NumPy array, as in Keras: `x / norm` with `np.linalg.norm(x, order, axis)`,
    where a zero norm is replaced by 1 (so zero vectors stay zero); integer input
    gives a float array.

    With anything else the result is a torch tensor (Keras's backend-tensor path):
    `x / max(norm, epsilon)` with `epsilon = keras.config.epsilon()`, computed as
    `x * min(rsqrt(sum(x**2)), 1 / epsilon)` for `order=2`. Integer tensors are cast
    to `floatx()` first; a scalar becomes a vector of one element.

    Args:
        x: Array to normalize (NumPy array or torch tensor).
        axis: Axis along which to normalize.
        order: Normalization order (e.g. `order=2` for the L2 norm). For tensors an
            int >= 1.

    Returns:
        A normalized copy of the array, of the same kind (NumPy or torch).

    Example:

    >>> keras.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        axis = axis or -1  # Keras's rule: axis 0 and None expand the last axis
        return x / np.expand_dims(norm, axis)

    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = torch.as_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(getattr(torch, config.floatx()))
    if x.ndim == 0:
        x = x.unsqueeze(0)
    epsilon = config.epsilon()
    if order == 2:
        inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
        return x * torch.clamp(inv_norm, max=1.0 / epsilon)
    norm = torch.linalg.norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)
