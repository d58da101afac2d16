"""ConvLSTM1D/2D/3D: LSTMs whose input and recurrent transformations are convolutions.

One step of the recurrence is `ConvLSTMCell` (`conv_lstm_cell.py`).
"""

from keraslike import regularizers
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.recurrent.builtin import delegate_to_cell
from keraslike.layers.recurrent.cell_base import check_units, serialize_or_none
from keraslike.layers.recurrent.conv_lstm_cell import ConvLSTMCell
from keraslike.layers.recurrent.rnn import RNN


@delegate_to_cell(
    "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
    "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout",
)
class ConvLSTM(RNN):
    """Abstract N-D convolutional LSTM layer (use `ConvLSTM1D`, `ConvLSTM2D`, `ConvLSTM3D`).

    Runs a step loop; each step's recurrent transformation is a "same" convolution of the
    hidden state, and the input convolutions of all steps run as one batched convolution.
    Weights live in torch's convolution layout (`weight_ih`, `weight_hh`, `bias`).

    Input shape: `(batch, time, *spatial, channels)` (channels_last) or
    `(batch, time, channels, *spatial)`. Output: `(batch, [time,] *new_spatial, filters)`.
    """

    _owns_cell = True

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        check_units(filters, type(self).__name__, kwargs.get("name"), arg="filters")
        cell = ConvLSTMCell(
            rank=rank,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.rank = rank
        self.input_spec = InputSpec(ndim=rank + 3)

    def _state_shapes(self, sequences_shape):
        batch = sequences_shape[0]
        state = self.cell.compute_output_shape((batch,) + tuple(sequences_shape[2:]))[0]
        return [state, state]

    def _states_in(self, states):
        return [self.cell._to_channels_first(s) for s in states]

    def _run(self, sequences, states, mask, training):
        last, sequence, states = super()._run(sequences, states, mask, training)
        to_user = self.cell._from_channels_first
        if sequence is not None and self.cell.data_format == "channels_last":
            sequence = sequence.movedim(2, -1)
        return to_user(last), sequence, [to_user(s) for s in states]

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        batch, steps = sequences_shape[0], sequences_shape[1]
        state_shape = self.cell.compute_output_shape((batch,) + sequences_shape[2:])[0][1:]
        if self.return_sequences:
            output_shape = (batch, steps) + state_shape
        else:
            output_shape = (batch,) + state_shape
        if self.return_state:
            batched = (batch,) + state_shape
            return output_shape, batched, batched
        return output_shape

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask
        while isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask, None, None]
        return output_mask

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = serialize_or_none(regularizers, self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class ConvLSTM1D(ConvLSTM):
    """1D convolutional LSTM: inputs `(batch, time, steps, channels)` (channels_last).

    Args: as `ConvLSTM2D`, with 1-tuples.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(1, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """2D convolutional LSTM (Keras 3's `keras.layers.ConvLSTM2D`).

    Args:
        filters: Number of output channels.
        kernel_size: Int or pair, the convolution window.
        strides: Int or pair (input convolution).
        padding: `"valid"` or `"same"` (TensorFlow's asymmetric "same" for strides > 1).
        data_format: `"channels_last"` (`(batch, time, rows, cols, channels)`) or
            `"channels_first"`.
        dilation_rate: Int or pair.
        activation, recurrent_activation, use_bias, initializers, unit_forget_bias,
        regularizers, constraints, dropout, recurrent_dropout, seed, return_sequences,
        return_state, go_backwards, stateful: As in `LSTM`.

    Example:

    ```python
    x = keras.Input(shape=(5, 16, 16, 3))
    y = keras.layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True)(x)
    # y.shape == (None, 5, 16, 16, 8)
    ```
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """3D convolutional LSTM: inputs `(batch, time, d1, d2, d3, channels)` (channels_last).

    Args: as `ConvLSTM2D`, with triples.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(3, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
