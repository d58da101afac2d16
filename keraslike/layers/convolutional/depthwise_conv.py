"""DepthwiseConv1D, DepthwiseConv2D: one filter bank per input channel (torch `groups=in`).

Keras's kernel is `(*kernel_size, in, depth_multiplier)`; it is stored like the weight of
`nn.Conv2d(in, in * depth_multiplier, kernel_size, groups=in)`: `(in * dm, 1, *kernel_size)`,
output channel `c * dm + m` being Keras's `[..., c, m]` (`DepthwiseLayout`).
"""

from keraslike import constraints, initializers, regularizers
from keraslike.layers.convolutional.base_conv import ConvMixin, serialize_or_none
from keraslike.layers.layer_utils import is_elementwise_activation
from keraslike.layers.layer import Layer
from keraslike.layers.weight_layout import Layout


class DepthwiseLayout(Layout):
    """Keras `(*k, in, dm)` <-> torch `(in * dm, 1, *k)` for a `rank`-D depthwise kernel."""

    def __init__(self, rank, depth_multiplier):
        self.rank = rank
        self.depth_multiplier = depth_multiplier

    def to_torch(self, keras_value):
        k = tuple(keras_value.shape[: self.rank])
        flat = keras_value.reshape(k + (-1,))  # (*k, in * dm), index c * dm + m
        return flat.permute((self.rank,) + tuple(range(self.rank))).unsqueeze(1)

    def to_keras(self, torch_value):
        k = tuple(torch_value.shape[2:])
        flat = torch_value.reshape((torch_value.shape[0],) + k)  # (in * dm, *k)
        flat = flat.permute(tuple(range(1, self.rank + 1)) + (0,))  # (*k, in * dm)
        return flat.reshape(k + (-1, self.depth_multiplier))

    def keras_shape(self, torch_shape):
        torch_shape = tuple(torch_shape)
        return torch_shape[2:] + (torch_shape[0] // self.depth_multiplier, self.depth_multiplier)


class BaseDepthwiseConv(ConvMixin, Layer):
    """N-D depthwise convolution: each input channel convolved with `depth_multiplier` filters.

    Args:
        rank: Number of spatial dimensions.
        depth_multiplier: Positive int, output channels per input channel.
        kernel_size, strides, dilation_rate: Int or tuple of `rank` ints.
        padding: `"valid"` or `"same"` (TensorFlow's, asymmetric when needed).
        data_format: `"channels_last"` or `"channels_first"`.
        activation, use_bias: As in `Conv2D`.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: For the kernel.
        bias_initializer, bias_regularizer, bias_constraint, activity_regularizer: As in `Conv2D`.

    Output channels: `in * depth_multiplier`.
    """

    def __init__(
        self,
        rank,
        depth_multiplier,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._check_filters(depth_multiplier, "depth_multiplier")
        self.depth_multiplier = depth_multiplier
        self._init_conv_args(rank, kernel_size, strides, padding, data_format, dilation_rate)
        self._init_activation(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
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
            name="kernel",
            torch_name="weight",
            layout=DepthwiseLayout(self.rank, self.depth_multiplier),
        )
        if self.use_bias:
            self.add_weight(
                shape=(channels * self.depth_multiplier,),
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
        outputs = self._conv(x, self.weight, self.bias, self._groups)
        if self._channels_last:
            outputs = outputs.permute(self._cl_perm)
        if self._act is not None:
            outputs = self._act(outputs)
        return outputs

    def _channels_first_call(self, rank):
        # graph/layout.py: `call` on channels-first views.
        if not self._channels_last or rank != self.rank + 2 or not is_elementwise_activation(self._act):
            return None
        return self._call_channels_first

    def _call_channels_first(self, x, padding=0):
        outputs = self._conv(x, self.weight, self.bias, self._groups, padding)
        return self._act(outputs) if self._act is not None else outputs

    def compute_output_shape(self, input_shape):
        self._check_valid_size(input_shape)
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        out = None if channels is None else channels * self.depth_multiplier
        return self._output_shape(input_shape, out, self._conv_spatial_out(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update(self._common_config())
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": serialize_or_none(
                    regularizers, self.depthwise_regularizer
                ),
                "depthwise_constraint": serialize_or_none(constraints, self.depthwise_constraint),
            }
        )
        return config


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution (stored like `nn.Conv1d(in, in * dm, k, groups=in)`).

    Input shape: `(batch, steps, channels)` or `(batch, channels, steps)`.
    Output shape: `(batch, new_steps, channels * depth_multiplier)` (or channels first).
    Keras kernel layout `(k, channels, depth_multiplier)`. See `BaseDepthwiseConv`.
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            1, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate,
            activation, use_bias, depthwise_initializer, bias_initializer,
            depthwise_regularizer, bias_regularizer, activity_regularizer,
            depthwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution (stored like `nn.Conv2d(in, in * dm, k, groups=in)`).

    Input shape: `(batch, rows, cols, channels)` or `(batch, channels, rows, cols)`.
    Output shape: `(batch, new_rows, new_cols, channels * depth_multiplier)` (or channels first).
    Keras kernel layout `(kh, kw, channels, depth_multiplier)`. See `BaseDepthwiseConv`.
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            2, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate,
            activation, use_bias, depthwise_initializer, bias_initializer,
            depthwise_regularizer, bias_regularizer, activity_regularizer,
            depthwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip
