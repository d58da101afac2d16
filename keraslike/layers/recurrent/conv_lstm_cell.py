"""`ConvLSTMCell`: one step of a convolutional LSTM (used by `ConvLSTM1D/2D/3D`)."""

import math

import torch
import torch.nn.functional as F

from keraslike import activations
from keraslike.backend.config import standardize_data_format
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.recurrent.cell_base import (
    RecurrentCell,
    check_units,
    dropout_mask,
)
from keraslike.layers.recurrent.lstm import forget_bias_initializer
from keraslike.layers.weight_layout import conv_layout

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _tuple(value, rank, name, allow_zero=False):
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    low = 0 if allow_zero else 1
    if len(values) != rank or any(not isinstance(v, int) or v < low for v in values):
        raise ValueError(
            f"The `{name}` argument must be a tuple of {rank} integers. Received {name}={value}"
        )
    return values


def _conv_output_length(length, kernel, stride, dilation, padding):
    if length is None:
        return None
    if padding == "same":
        return math.ceil(length / stride)
    return math.floor((length - dilation * (kernel - 1) - 1) / stride) + 1


def _same_pads(length, kernel, stride, dilation):
    """TensorFlow's "same" padding: the extra pixel goes after (bottom/right)."""
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - length, 0)
    return total // 2, total - total // 2


class ConvLSTMCell(RecurrentCell):
    """Cell class for the ConvLSTM layers: an LSTM step with convolutions.

    Weights are stored in torch's convolution layout, `weight_ih (4f, in, *kernel)` and
    `weight_hh (4f, f, *kernel)` (gates i, f, c, o along the output channels), and `bias (4f,)`;
    `get_weights()` gives Keras's `kernel (*kernel, in, 4f)`, `recurrent_kernel (*kernel, f, 4f)`
    and `bias`. Internally states are channels-first.

    Args:
        rank: 1, 2 or 3.
        filters: Positive integer, the number of output channels.
        kernel_size: Int or tuple of `rank` ints.
        strides: Int or tuple of `rank` ints (input convolution only).
        padding: `"valid"` or `"same"` (input convolution; the recurrent one is always "same").
        data_format: `"channels_last"` or `"channels_first"`.
        dilation_rate: Int or tuple of `rank` ints.
        activation, recurrent_activation, use_bias, initializers, unit_forget_bias, regularizers,
        constraints, dropout, recurrent_dropout, seed: As in `LSTMCell`.
    """

    _seed_taken_first = True  # Keras's cell makes its SeedGenerator before its initializers

    gates = 4

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if rank not in (1, 2, 3):
            raise ValueError(
                f"Rank {rank} convolutions are not currently implemented. Received: rank={rank}"
            )
        check_units(filters, type(self).__name__, kwargs.get("name"), arg="filters")
        super().__init__(filters, dropout, recurrent_dropout, seed, **kwargs)
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size")
        self.strides = _tuple(strides, rank, "strides", allow_zero=True)
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(
                f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}"
            )
        self.padding = padding
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please "
                "provide `strides=1` or `dilation_rate=1`. Received: "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self._resolve_common(
            activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint,
        )
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.input_spec = InputSpec(ndim=rank + 2)
        self.state_size = -1

    @property
    def mask_count(self):
        return 4  # Keras's ConvLSTM always draws one dropout mask per gate

    def build(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(inputs_shape)
        if self.data_format == "channels_first":
            channels, spatial = inputs_shape[1], inputs_shape[2:]
        else:
            channels, spatial = inputs_shape[-1], inputs_shape[1:-1]
        if None in spatial:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. "
                f"Received invalid input shape: input_shape={inputs_shape}"
            )
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs (last axis) should be defined. Found None. "
                f"Full input shape received: input_shape={inputs_shape}"
            )
        self.spatial_dims = tuple(spatial)
        self.input_dim = channels
        self.input_spec = InputSpec(ndim=self.rank + 3, shape=(None,) + inputs_shape[1:])
        layout = conv_layout(self.rank)
        self.add_weight(
            shape=self.kernel_size + (channels, 4 * self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight_ih",
            layout=layout,
        )
        self.add_weight(
            shape=self.kernel_size + (self.filters, 4 * self.filters),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
            torch_name="weight_hh",
            layout=layout,
        )
        if self.use_bias:
            initializer = self.bias_initializer
            if self.unit_forget_bias:
                initializer = forget_bias_initializer(self.bias_initializer, self.filters)
            self.add_weight(
                shape=(4 * self.filters,),
                initializer=initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = None
        self.built = True

    # ------------------------------------------------------------------ shapes

    def output_spatial(self, spatial):
        return tuple(
            _conv_output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )

    def compute_output_shape(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(inputs_shape)
        if self.data_format == "channels_first":
            out = (inputs_shape[0], self.filters) + self.output_spatial(inputs_shape[2:])
        else:
            out = (inputs_shape[0],) + self.output_spatial(inputs_shape[1:-1]) + (self.filters,)
        return out, [out, out]

    def get_initial_state(self, batch_size=None):
        if self.data_format == "channels_last":
            shape = (batch_size,) + self.spatial_dims + (self.input_dim,)
        else:
            shape = (batch_size, self.input_dim) + self.spatial_dims
        state_shape = self.compute_output_shape(shape)[0]
        dtype = getattr(torch, self.compute_dtype)
        return [torch.zeros(state_shape, dtype=dtype), torch.zeros(state_shape, dtype=dtype)]

    # ------------------------------------------------------------------ computation (NC...)

    def _to_channels_first(self, x):
        return x if self.data_format == "channels_first" else x.movedim(-1, 1)

    def _from_channels_first(self, x):
        return x if self.data_format == "channels_first" else x.movedim(1, -1)

    def _input_conv(self, x, weight, bias):
        """Convolution of channels-first `x` with the input kernel (TF "same" padding)."""
        padding = 0
        if self.padding == "same":
            geometry = zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
            pads = [_same_pads(n, k, s, d) for n, k, s, d in geometry]
            if all(a == b for a, b in pads):
                padding = tuple(a for a, _ in pads)
            else:
                x = F.pad(x, [p for pair in reversed(pads) for p in pair])
        return _CONV[self.rank](x, weight, bias, self.strides, padding, self.dilation_rate)

    def _project_inputs(self, frames, masks):
        """Input convolutions of channels-first frames `(n, in, *spatial)`, masks per gate."""
        weight = self._parameters["weight_ih"]
        bias = self._parameters.get("bias")
        if masks is None:
            return self._input_conv(frames, weight, bias)
        weights = weight.chunk(4, 0)
        biases = bias.chunk(4, 0) if bias is not None else [None] * 4
        return torch.cat(
            [self._input_conv(frames * masks[g], weights[g], biases[g]) for g in range(4)], dim=1
        )

    def _make_step(self, recurrent_masks):
        w_hh = self._parameters["weight_hh"]
        conv = _CONV[self.rank]
        act, rec = self.activation, self.recurrent_activation

        # "same" at stride 1: symmetric for odd kernels; the extra pixel after for even ones.
        pads = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in self.kernel_size]
        symmetric = all(a == b for a, b in pads)
        padding = tuple(a for a, _ in pads) if symmetric else 0
        flat_pads = [p for pair in reversed(pads) for p in pair]

        def one_conv(h, weight):
            if not symmetric:
                h = F.pad(h, flat_pads)
            return conv(h, weight, None, 1, padding)

        def recurrent_conv(h):
            if recurrent_masks is None:
                return one_conv(h, w_hh)
            weights = w_hh.chunk(4, 0)
            parts = [one_conv(h * recurrent_masks[g], weights[g]) for g in range(4)]
            return torch.cat(parts, dim=1)

        def step(p, states):
            h, c = states[0], states[1]
            z = p + recurrent_conv(h)
            i, f, g, o = z.chunk(4, dim=1)
            c = rec(f) * c + rec(i) * act(g)
            h = rec(o) * act(c)
            return h, [h, c]

        return step

    def _loop_parts(self, x, training):
        """`x`: `(batch, time, ...)` in the layer's data format; per-step inputs channels-first."""
        batch, steps = x.shape[0], x.shape[1]
        frames = self._to_channels_first(x.reshape((batch * steps,) + tuple(x.shape[2:])))
        dp = rdp = None
        # Keras draws both kinds of masks on every call, training or not (see
        # `_draw_unused_masks`); an inference call draws them here and drops them.
        if self.dropout > 0 and x.device.type != "meta":
            # One mask per gate and sequence, the same at every step (frames are batch-major).
            dp = self._gate_masks(x[:, 0], self.dropout)
            dp = dp.repeat_interleave(steps, dim=1) if training and self.dropout < 1.0 else None
        proj = self._project_inputs(frames, dp)
        proj = proj.reshape((batch, steps) + tuple(proj.shape[1:]))
        if self.recurrent_dropout > 0 and x.device.type != "meta":
            state_shape = (batch, self.filters) + tuple(proj.shape[3:])  # channels-first
            state = self._from_channels_first(proj.new_empty(state_shape)).contiguous()
            rdp = self._gate_masks(state, self.recurrent_dropout)
            rdp = rdp if training and self.recurrent_dropout < 1.0 else None
        return proj, self._make_step(rdp)

    def _gate_masks(self, like, rate):
        """Keras's four gate masks for a tensor `like` in the layer's data format (drawn in its
        element order, as Keras draws them), returned channels-first: `(4, batch, C, ...)`."""
        masks = dropout_mask(like, rate, 4, self._mask_seed)
        flat = self._to_channels_first(masks.reshape((-1,) + tuple(masks.shape[2:])))
        return flat.reshape((4, masks.shape[1]) + tuple(flat.shape[1:]))

    def _draw_unused_masks(self, x):
        """An inference call's masks are drawn by `_loop_parts` (they need the state's shape)."""

    def _zero_states(self, x, inputs=None):
        shape = (x.shape[0], self.filters) + tuple(inputs.shape[3:])
        zeros = x.new_zeros(shape)
        return [zeros, zeros]

    def call(self, inputs, states, training=None):
        """One step on `inputs` `(batch, ...)` and states `[h, c]`, in the layer's data format."""
        if training is None:
            training = self.training
        frames = self._to_channels_first(inputs)
        h, c = (self._to_channels_first(s) for s in states[:2])
        dp, rdp = self._step_masks(frames, h, training)
        h, (h, c) = self._make_step(rdp)(self._project_inputs(frames, dp), [h, c])
        h, c = self._from_channels_first(h), self._from_channels_first(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                **self._common_config(),
                "unit_forget_bias": self.unit_forget_bias,
                **self._regularizer_config(),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
