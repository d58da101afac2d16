"""Conv1DTranspose, Conv2DTranspose, Conv3DTranspose (transposed, a.k.a. "deconvolution").

Stored like `nn.ConvTransposeNd`: `weight` `(in, filters, *kernel_size)`; Keras's kernel layout
is `(*kernel_size, filters, in)` (`conv_transpose_layout(rank)`).

Keras's output geometry (shared by all its backends): the full transposed convolution has length
`(n - 1) * stride + ek` (`ek` the dilated kernel extent); Keras keeps the window that starts
`crop_left` in and ends `crop_right` before its end (a negative crop means zeros added), where
`crop_* = ek - 1 - pad_*` and `pad_left`/`pad_right` follow from `padding` and
`output_padding`. torch's `padding=p, output_padding=op` keeps exactly the window
`crop_left = p, crop_right = p - op`, so the crops map to torch's arguments whenever
`0 <= crop_left - crop_right < max(stride, dilation)`; otherwise (e.g. `kernel_size=3, strides=2,
padding="same"`) torch computes one element more and the layer slices it off (a view). All of this
depends only on the layer's arguments, so it is planned once in `__init__`.
"""

import torch.nn.functional as F

from keraslike import constraints, initializers, regularizers
from keraslike.layers.convolutional.base_conv import (
    CONV_TRANSPOSE_FN,
    ConvMixin,
    serialize_or_none,
)
from keraslike.layers.convolutional.padding import (
    effective_kernel,
    layer_error,
    standardize_tuple,
)
from keraslike.layers.layer import Layer
from keraslike.layers.weight_layout import conv_transpose_layout


def keras_transpose_pads(kernel, stride, dilation, padding, output_padding):
    """Keras's (left, right) padding of the dilated input of a transposed convolution."""
    ek = effective_kernel(kernel, dilation)
    if padding == "valid":
        if output_padding is None:
            output_padding = max(ek, stride) - ek
        return ek - 1, ek - 1 + output_padding
    if output_padding is None:
        total = stride + ek - 2
    else:
        total = ek + ek % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, ek - 1)
    return left, total - left


def transpose_output_length(size, kernel, stride, dilation, padding, output_padding):
    """Keras's output length of a transposed convolution along one dimension."""
    if size is None:
        return None
    ek = effective_kernel(kernel, dilation)
    if padding == "valid":
        if output_padding is None:
            output_padding = max(ek, stride) - ek
        return (size - 1) * stride + ek + output_padding
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + ek % 2 + output_padding


class BaseConvTranspose(ConvMixin, Layer):
    """An N-D transposed convolution layer.

    Args:
        rank: Number of spatial dimensions.
        filters: Positive integer, the number of output channels.
        kernel_size, strides, dilation_rate: Int or tuple of `rank` ints.
        padding: `"valid"` or `"same"`.
        output_padding: `None` (Keras's default geometry) or int/tuple of `rank` ints, each
            strictly less than the stride: extra length added at the end of each dimension.
        data_format: `"channels_last"` or `"channels_first"`.
        activation, use_bias, *_initializer, *_regularizer, *_constraint: As in `Conv2D`.
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._check_filters(filters)
        self.filters = filters
        self._init_conv_args(rank, kernel_size, strides, padding, data_format, dilation_rate)
        self._same = None  # transposed convs do not pad their input
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = standardize_tuple(
                self, output_padding, rank, "output_padding", allow_zero=True
            )
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise layer_error(
                        self,
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but `strides` "
                        f"is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}",
                    )
        self._init_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._plan_torch_geometry()

    def _plan_torch_geometry(self):
        torch_padding, torch_output_padding, trims, extends = [], [], [], []
        for i in range(self.rank):
            k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            op = None if self.output_padding is None else self.output_padding[i]
            left, right = keras_transpose_pads(k, s, d, self.padding, op)
            ek = effective_kernel(k, d)
            crop_left, crop_right = ek - 1 - left, ek - 1 - right  # crop_left >= 0 always
            extra = crop_left - crop_right
            torch_padding.append(crop_left)
            if 0 <= extra < max(s, d):
                torch_output_padding.append(extra)
                trims.append(0)
                extends.append(0)
            elif extra < 0:  # torch's window is longer at the end: slice it off
                torch_output_padding.append(0)
                trims.append(-extra)
                extends.append(0)
            else:  # zeros beyond torch's reach (not produced by Keras's formulas; kept for safety)
                torch_output_padding.append(0)
                trims.append(0)
                extends.append(extra)
        self._torch_padding = tuple(torch_padding)
        self._torch_output_padding = tuple(torch_output_padding)
        self._trim = tuple(trims) if any(trims) else None
        self._extend = tuple(extends) if any(extends) else None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.add_weight(
            shape=self.kernel_size + (self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight",
            layout=conv_transpose_layout(self.rank),
        )
        if self.use_bias:
            self.add_weight(
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        x = inputs.permute(self._cf_perm) if self._channels_last else inputs
        outputs = CONV_TRANSPOSE_FN[self.rank](
            x,
            self.weight,
            self.bias if self._extend is None else None,
            self.strides,
            self._torch_padding,
            self._torch_output_padding,
            1,
            self.dilation_rate,
        )
        if self._trim is not None:
            index = (slice(None), slice(None)) + tuple(
                slice(0, n - t) for n, t in zip(outputs.shape[2:], self._trim)
            )
            outputs = outputs[index]
        if self._extend is not None:
            flat = []
            for e in reversed(self._extend):
                flat.extend((0, e))
            outputs = F.pad(outputs, tuple(flat))
            if self.bias is not None:
                outputs = outputs + self.bias.reshape((1, -1) + (1,) * self.rank)
        if self._channels_last:
            outputs = outputs.permute(self._cl_perm)
        if self._act is not None:
            outputs = self._act(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        spatial = tuple(
            transpose_output_length(
                n,
                k,
                s,
                d,
                self.padding,
                None if self.output_padding is None else self.output_padding[i],
            )
            for i, (n, k, s, d) in enumerate(
                zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)
            )
        )
        return self._output_shape(input_shape, self.filters, spatial)

    def get_config(self):
        config = super().get_config()
        config.update(self._common_config())
        config.update(
            {
                "filters": self.filters,
                "output_padding": self.output_padding,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": serialize_or_none(regularizers, self.kernel_regularizer),
                "kernel_constraint": serialize_or_none(constraints, self.kernel_constraint),
            }
        )
        return config


_DOC = """{r}-D transposed convolution layer (stored like `nn.ConvTranspose{r}d`).

    Input shape: `(batch, {sp}, channels)` (channels_last) or `(batch, channels, {sp})`.
    Output shape: `(batch, {nsp}, filters)` or `(batch, filters, {nsp})`, where with
    `padding="same"` and no `output_padding` each new length is `length * stride`.
    Keras kernel layout `({ks}, filters, in)`. See `BaseConvTranspose` for the arguments.
    """


class Conv1DTranspose(BaseConvTranspose):
    __doc__ = _DOC.format(r=1, sp="steps", nsp="new_steps", ks="k")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            1, filters, kernel_size, strides, padding, output_padding, data_format,
            dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint, **kwargs,
        )  # fmt: skip


class Conv2DTranspose(BaseConvTranspose):
    __doc__ = _DOC.format(r=2, sp="rows, cols", nsp="new_rows, new_cols", ks="kh, kw")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            2, filters, kernel_size, strides, padding, output_padding, data_format,
            dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint, **kwargs,
        )  # fmt: skip


class Conv3DTranspose(BaseConvTranspose):
    __doc__ = _DOC.format(r=3, sp="d1, d2, d3", nsp="new_d1, new_d2, new_d3", ks="k1, k2, k3")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            3, filters, kernel_size, strides, padding, output_padding, data_format,
            dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint, **kwargs,
        )  # fmt: skip


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
