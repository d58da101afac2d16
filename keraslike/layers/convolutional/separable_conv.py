"""SeparableConv1D, SeparableConv2D: a depthwise convolution followed by a 1x1 convolution.

Stored as two torch conv weights: `depthwise_weight` `(in * dm, 1, *kernel_size)` (a grouped
conv with `groups=in`) and `pointwise_weight` `(filters, in * dm, 1, ...)`, plus `bias`
`(filters,)`. Keras's layouts: `depthwise_kernel` `(*kernel_size, in, dm)`, `pointwise_kernel`
`(1, ..., in * dm, filters)`.
"""

from keraslike import constraints, initializers, regularizers
from keraslike.layers.convolutional.base_conv import CONV_FN, ConvMixin, serialize_or_none
from keraslike.layers.convolutional.depthwise_conv import DepthwiseLayout
from keraslike.layers.layer import Layer
from keraslike.layers.weight_layout import conv_layout


class BaseSeparableConv(ConvMixin, Layer):
    """N-D separable convolution: depthwise (per channel) then pointwise (1x1) convolution.

    Args:
        rank: Number of spatial dimensions.
        depth_multiplier: Positive int, depthwise output channels per input channel.
        filters: Positive int, the number of output channels.
        kernel_size, strides, dilation_rate: Int or tuple of `rank` ints (depthwise step).
        padding: `"valid"` or `"same"` (TensorFlow's, asymmetric when needed).
        data_format: `"channels_last"` or `"channels_first"`.
        activation, use_bias: As in `Conv2D` (the bias is added after the pointwise step).
        depthwise_*, pointwise_*, bias_*: Initializers, regularizers and constraints.
    """

    def __init__(
        self,
        rank,
        depth_multiplier,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._check_filters(depth_multiplier, "depth_multiplier")
        self._check_filters(filters)
        self.depth_multiplier = depth_multiplier
        self.filters = filters
        self._init_conv_args(rank, kernel_size, strides, padding, data_format, dilation_rate)
        self._init_activation(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._groups = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._check_valid_size(input_shape)
        self._groups = channels
        self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="depthwise_kernel",
            torch_name="depthwise_weight",
            layout=DepthwiseLayout(self.rank, self.depth_multiplier),
        )
        self.add_weight(
            shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            name="pointwise_kernel",
            torch_name="pointwise_weight",
            layout=conv_layout(self.rank),
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
        x = self._conv(x, self.depthwise_weight, None, self._groups)
        outputs = CONV_FN[self.rank](x, self.pointwise_weight, self.bias)
        if self._channels_last:
            outputs = outputs.permute(self._cl_perm)
        if self._act is not None:
            outputs = self._act(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        self._check_valid_size(input_shape)
        return self._output_shape(input_shape, self.filters, self._conv_spatial_out(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update(self._common_config())
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "filters": self.filters,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": serialize_or_none(
                    regularizers, self.depthwise_regularizer
                ),
                "pointwise_regularizer": serialize_or_none(
                    regularizers, self.pointwise_regularizer
                ),
                "depthwise_constraint": serialize_or_none(constraints, self.depthwise_constraint),
                "pointwise_constraint": serialize_or_none(constraints, self.pointwise_constraint),
            }
        )
        return config


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution (depthwise then pointwise). See `BaseSeparableConv`.

    Input shape: `(batch, steps, channels)` or `(batch, channels, steps)`.
    Output shape: `(batch, new_steps, filters)` or `(batch, filters, new_steps)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            1, depth_multiplier, filters, kernel_size, strides, padding, data_format,
            dilation_rate, activation, use_bias, depthwise_initializer, pointwise_initializer,
            bias_initializer, depthwise_regularizer, pointwise_regularizer, bias_regularizer,
            activity_regularizer, depthwise_constraint, pointwise_constraint, bias_constraint,
            **kwargs,
        )  # fmt: skip


class SeparableConv2D(BaseSeparableConv):
    """2-D separable convolution (depthwise then pointwise). See `BaseSeparableConv`.

    Input shape: `(batch, rows, cols, channels)` or `(batch, channels, rows, cols)`.
    Output shape: `(batch, new_rows, new_cols, filters)` or `(batch, filters, new_rows, new_cols)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            2, depth_multiplier, filters, kernel_size, strides, padding, data_format,
            dilation_rate, activation, use_bias, depthwise_initializer, pointwise_initializer,
            bias_initializer, depthwise_regularizer, pointwise_regularizer, bias_regularizer,
            activity_regularizer, depthwise_constraint, pointwise_constraint, bias_constraint,
            **kwargs,
        )  # fmt: skip


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
