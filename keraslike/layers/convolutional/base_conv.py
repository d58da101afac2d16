"""Shared machinery of the convolution layers, and `BaseConv` (Conv1D/2D/3D).

Weights are stored in torch's layouts (`Conv2D.weight` is `(out, in // groups, kh, kw)` like
`nn.Conv2d`'s), declared once through `conv_layout(rank)`; `layer.kernel` and `get_weights()`
give Keras's `(kh, kw, in // groups, out)`. Channels-last inputs are permuted to channels-first
*views* (which torch's conv kernels read as channels_last memory format, without a copy) and the
result is permuted back, so no weight is permuted or copied per call.
"""

import torch
import torch.nn.functional as F

from keraslike import activations, constraints, initializers, regularizers
from keraslike.graph.layout import to_channels_first, to_channels_last
from keraslike.layers.convolutional.padding import (
    SamePadding,
    check_output_positive,
    conv_output_length,
    flat_pad,
    layer_error,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import is_elementwise_activation, serialize_or_none
from keraslike.layers.lora import LoraMixin, lora_config
from keraslike.layers.weight_layout import IDENTITY, conv_layout

CONV_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE_FN = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class ConvMixin:
    """Argument handling, layout helpers and checks shared by every convolution layer."""

    activation = activations.LayerActivation()  # assigning it also sets `_act`, which call applies

    def _init_conv_args(
        self, rank, kernel_size, strides, padding, data_format, dilation_rate, allow_causal=False
    ):
        self.rank = rank
        self.kernel_size = standardize_tuple(self, kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(self, strides, rank, "strides")
        self.dilation_rate = standardize_tuple(self, dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(self, padding, allow_causal=allow_causal)
        self.data_format = standardize_data_format(self, data_format)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise layer_error(
                self,
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}",
            )
        self._channels_last = self.data_format == "channels_last"
        self._cf_perm = to_channels_first(rank + 2)  # rank spatial dims, batch and channels
        self._cl_perm = to_channels_last(rank + 2)
        self._same = None
        if self.padding == "same":
            self._same = SamePadding(self.kernel_size, self.strides, self.dilation_rate)
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def _init_activation(self, activation):
        self.activation = activations.get(activation)
        self._act = activations.runtime_form(self.activation)

    def _check_filters(self, filters, name="filters"):
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise layer_error(
                self,
                f"invalid value for argument `{name}`, expected a strictly positive integer. "
                f"Received: {name}={filters!r}",
            )

    def _input_channels(self, input_shape):
        """Checks the rank and returns the (defined) number of input channels."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            layout = "spatial dims, channels" if self._channels_last else "channels, spatial dims"
            raise layer_error(
                self,
                f"expected an input of rank {self.rank + 2} (batch, {layout}), "
                f"received an input of shape {input_shape}.",
            )
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        if channels is None:
            raise layer_error(
                self,
                "the channel dimension of the inputs should be defined. "
                f"Received: input_shape={input_shape}",
            )
        axis = -1 if self._channels_last else 1
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={axis: channels})
        return channels

    def _spatial(self, input_shape):
        return tuple(input_shape[1:-1]) if self._channels_last else tuple(input_shape[2:])

    def _output_shape(self, input_shape, channels, spatial_out):
        if self._channels_last:
            return (input_shape[0],) + tuple(spatial_out) + (channels,)
        return (input_shape[0], channels) + tuple(spatial_out)

    def _conv_spatial_out(self, input_shape):
        return tuple(
            conv_output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate
            )
        )

    def _check_valid_size(self, input_shape):
        check_output_positive(
            self,
            self._spatial(input_shape),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )

    def _conv(self, x, weight, bias, groups, padding=0):
        """Runs the torch convolution on channels-first `x` with Keras's padding modes.

        `padding` (int or one int per spatial dim) zero-pads both sides first: only for a
        `"valid"` convolution reading a `ZeroPadding` layer's input (graph/layout.py folds it).
        """
        if self._same is not None:
            x, padding = self._same.apply(x)
        elif self.padding == "causal":
            x = F.pad(x, (self.dilation_rate[0] * (self.kernel_size[0] - 1), 0))
        return CONV_FN[self.rank](
            x, weight, bias, self.strides, padding, self.dilation_rate, groups
        )

    def _channels_first_padded_call(self, rank, padding):
        """graph/layout.py: the channels-first call on inputs a `ZeroPadding` layer would pad by
        `padding` (one int per spatial dim, both sides) first, or None where it cannot fold.

        The padding goes to torch's convolution (no padded copy), as a hand-written module
        passes it to `nn.Conv2d`.
        """
        cf_call = getattr(self, "_channels_first_call", None)
        if self.padding != "valid" or cf_call is None or cf_call(rank) is None:
            return None
        padding = tuple(padding)

        def call_padded(x):
            return self._call_channels_first(x, padding)

        return call_padded

    def _common_config(self):
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": serialize_or_none(regularizers, self.bias_regularizer),
            "activity_regularizer": serialize_or_none(regularizers, self.activity_regularizer),
            "bias_constraint": serialize_or_none(constraints, self.bias_constraint),
        }


class BaseConv(LoraMixin, ConvMixin, Layer):
    """An N-D convolution (cross-correlation) layer: `activation(conv(inputs, kernel) + bias)`.

    Stored like `nn.ConvNd`: `weight` `(filters, in // groups, *kernel_size)` and `bias`
    `(filters,)`; `layer.kernel`/`get_weights()` give Keras's `(*kernel_size, in // groups,
    filters)`. `padding="same"` pads like TensorFlow (the extra element at the end when the
    total padding is odd, e.g. stride 2 on an even size).

    Args:
        rank: Number of spatial dimensions (1, 2 or 3).
        filters: Positive integer, the number of output channels.
        kernel_size: Int or tuple of `rank` ints.
        strides: Int or tuple of `rank` ints (`> 1` excludes `dilation_rate > 1`).
        padding: `"valid"`, `"same"` or (1-D only) `"causal"`, case-insensitive.
        data_format: `"channels_last"` (default from `keras.config`) or `"channels_first"`.
        dilation_rate: Int or tuple of `rank` ints.
        groups: Positive int dividing both the input channels and `filters`.
        activation: Activation name or function (default: none).
        use_bias: Whether to add a bias.
        kernel_initializer, bias_initializer: Initializers (`"glorot_uniform"`, `"zeros"`).
        kernel_regularizer, bias_regularizer, activity_regularizer: Optional penalties.
        kernel_constraint, bias_constraint: Optional constraints.
        lora_rank: Optional integer: when set, the layer is built with LoRA adapters
            `lora_kernel_a` `(*kernel_size, in // groups, rank)` and `lora_kernel_b`
            `(rank, filters)` and the kernel is frozen (see `enable_lora`).
        lora_alpha: Optional LoRA scale numerator (defaults to `lora_rank`).
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_lora(lora_rank, lora_alpha)
        self._check_filters(filters)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise layer_error(
                self,
                f"the number of groups must be a positive integer. Received: groups={groups!r}",
            )
        if filters % groups != 0:
            raise layer_error(
                self,
                "the number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}",
            )
        self.filters = filters
        self.groups = groups
        self._init_conv_args(
            rank, kernel_size, strides, padding, data_format, dilation_rate, allow_causal=rank == 1
        )
        self._init_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups != 0:
            raise layer_error(
                self,
                "the number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {tuple(input_shape)}).",
            )
        self._check_valid_size(input_shape)
        self.add_weight(
            shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight",
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
        self._maybe_enable_lora()

    @property
    def kernel(self):
        """The kernel in Keras's layout `(*kernel_size, in // groups, filters)`, LoRA merged."""
        return self._kernel_property()

    def _lora_layouts(self):
        # A is stored like a conv weight (rank, in // groups, *kernel) so it runs as a conv.
        return ("lora_weight_a", conv_layout(self.rank)), ("lora_kernel_b", IDENTITY)

    # Whether Keras's `call` of this class runs `self.convolution_op` (Keras's Conv1D does not).
    _keras_call_uses_convolution_op = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A class fact, fixed at definition: `call` routes through an overridden
        # `convolution_op` (Keras's extension point) and keeps its own fast path otherwise.
        cls._custom_convolution_op = (
            cls._keras_call_uses_convolution_op and cls.convolution_op is not BaseConv.convolution_op
        )

    def convolution_op(self, inputs, kernel):
        """The convolution of `call`, with a given Keras-layout `kernel`: no bias, no activation.

        Subclasses override it to change the kernel (e.g. standardize it); `call` then runs
        `activation(convolution_op(inputs, self.kernel) + bias)`, as in Keras.

        Args:
            inputs: Tensor in the layer's `data_format`.
            kernel: Tensor of shape `(*kernel_size, in_channels // groups, filters)`.

        Returns:
            The convolved tensor in the layer's `data_format`.
        """
        x = inputs.permute(self._cf_perm) if self._channels_last else inputs
        weight = conv_layout(self.rank).to_torch(kernel)
        outputs = self._conv(x, weight, None, x.shape[1] // weight.shape[1])
        return outputs.permute(self._cl_perm) if self._channels_last else outputs

    def _call_through_convolution_op(self, inputs):
        outputs = self.convolution_op(inputs, self._merged_keras_kernel())
        if self.use_bias:
            shape = (self.filters,) if self._channels_last else (self.filters,) + (1,) * self.rank
            outputs = outputs + self.bias.reshape(shape)
        return self._act(outputs) if self._act is not None else outputs

    def call(self, inputs):
        if self._custom_convolution_op:
            return self._call_through_convolution_op(inputs)
        x = inputs.permute(self._cf_perm) if self._channels_last else inputs
        if self.lora_enabled and self.groups != 1:
            # A grouped kernel's update does not factor through a rank-r conv: merge it.
            delta = conv_layout(self.rank).to_torch(self._lora_delta_keras())
            outputs = self._conv(x, self.weight + delta, self.bias, self.groups)
        else:
            outputs = self._conv(x, self.weight, self.bias, self.groups)
        if self.lora_enabled and self.groups == 1:
            # conv(x, A) is (N, rank, *spatial); project its channels with B.
            lora_x = self._conv(x, self.lora_weight_a, None, 1)
            lora_x = torch.matmul(lora_x.movedim(1, -1), self.lora_kernel_b).movedim(-1, 1)
            outputs = outputs + self._lora_scale * lora_x
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
        if self._custom_convolution_op or self.lora_enabled:  # set after the plan was compiled
            if padding:
                x = F.pad(x, flat_pad([(p, p) for p in padding]))
            return self.call(x.permute(self._cl_perm)).permute(self._cf_perm)
        outputs = self._conv(x, self.weight, self.bias, self.groups, padding)
        return self._act(outputs) if self._act is not None else outputs

    def compute_output_shape(self, input_shape):
        self._check_valid_size(input_shape)
        return self._output_shape(input_shape, self.filters, self._conv_spatial_out(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update(self._common_config())
        config.update(
            {
                "filters": self.filters,
                "groups": self.groups,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": serialize_or_none(regularizers, self.kernel_regularizer),
                "kernel_constraint": serialize_or_none(constraints, self.kernel_constraint),
            }
        )
        return lora_config(self, config)


BaseConv._custom_convolution_op = False
