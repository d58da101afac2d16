"""Output lengths and TensorFlow-style "same" padding for conv/pool layers.

Keras's "same" padding is TensorFlow's: the total padding along a dimension is
`max((out - 1) * stride + effective_kernel - size, 0)` with `out = ceil(size / stride)`, and when
it is odd the extra element goes at the END (bottom/right). torch's `padding=` argument is
symmetric, so a layer passes the padding to the torch kernel when it is symmetric and pads the
input with `F.pad` first otherwise. All of this is Python integer arithmetic on static shapes:
no tensor is read and nothing syncs with the device.
"""

import torch.nn.functional as F

from keraslike.layers.layer_utils import (  # noqa: F401  (the argument checks conv files use)
    layer_error,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)


def effective_kernel(kernel, dilation=1):
    """Extent of a dilated kernel: `(kernel - 1) * dilation + 1`."""
    return (kernel - 1) * dilation + 1


def same_pads(size, kernel, stride, dilation=1):
    """TensorFlow's (before, after) "same" padding of one dimension (more after when odd)."""
    ek = effective_kernel(kernel, dilation)
    if stride == 1:
        total = ek - 1
    else:
        out = (size + stride - 1) // stride
        total = max((out - 1) * stride + ek - size, 0)
    return total // 2, total - total // 2


def conv_output_length(size, kernel, stride, dilation, padding):
    """Output length of a convolution/pooling along one dimension (`None` stays `None`)."""
    if size is None:
        return None
    if padding == "valid":
        return (size - effective_kernel(kernel, dilation)) // stride + 1
    return (size + stride - 1) // stride  # "same" and "causal"


def check_output_positive(layer, spatial, kernel, strides, dilation, padding, what="kernel_size"):
    """Raises when a "valid" window is larger than the input (output size zero or negative)."""
    if padding != "valid":
        return
    for size, k, s, d in zip(spatial, kernel, strides, dilation):
        if size is not None and conv_output_length(size, k, s, d, padding) <= 0:
            dil = "" if what != "kernel_size" else f" and dilation_rate={tuple(dilation)}"
            raise layer_error(
                layer,
                f"{what}={tuple(kernel)}{dil} is larger than the input's spatial shape "
                f"{tuple(spatial)} with padding='valid': the computed output size would be zero "
                "or negative.",
            )


def flat_pad(pads):
    """`[(before, after), ...]` per spatial dim -> `F.pad`'s flat list (last dimension first)."""
    flat = []
    for before, after in reversed(pads):
        flat.extend((before, after))
    return tuple(flat)


class SamePadding:
    """Plans TF-style "same" padding for a channels-first tensor: torch `padding=` or `F.pad`.

    With unit strides the amounts do not depend on the input size and are planned once;
    otherwise they are computed from the (static) spatial shape at each call.

    Args:
        kernel, strides, dilation: Per-dimension tuples.
        value: Fill value for an explicit pad (`float("-inf")` for max pooling).
    """

    def __init__(self, kernel, strides, dilation, value=0.0):
        self.kernel = tuple(kernel)
        self.strides = tuple(strides)
        self.dilation = tuple(dilation)
        self.value = value
        self._fixed = None
        if all(s == 1 for s in self.strides):
            self._fixed = self._plan((None,) * len(self.kernel))

    def _plan(self, spatial):
        pads = [
            same_pads(n, k, s, d)
            for n, k, s, d in zip(spatial, self.kernel, self.strides, self.dilation)
        ]
        if all(before == after for before, after in pads):
            return tuple(before for before, _ in pads), None
        return 0, flat_pad(pads)

    def apply(self, x):
        """Returns `(x, torch_padding)`: `x` padded where the padding is asymmetric."""
        torch_padding, explicit = self._fixed or self._plan(tuple(x.shape[2:]))
        if explicit is not None:
            x = F.pad(x, explicit, value=self.value)
        return x, torch_padding
