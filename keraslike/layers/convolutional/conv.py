"""Conv1D, Conv2D, Conv3D: Keras's convolution layers on torch's conv kernels."""

from keraslike.layers.convolutional.base_conv import BaseConv


class Conv1D(BaseConv):
    """1-D convolution layer (temporal convolution).

    `padding="causal"` left-pads the steps by `dilation_rate * (kernel_size - 1)`.

    Input shape: `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.
    Output shape: `(batch, new_steps, filters)`
    (channels_last) or `(batch, filters, new_steps)`.
    Stored like `nn.Conv1d` (`weight`, `bias`); Keras kernel layout
    `(k, in // groups, filters)`. See `BaseConv` for the arguments.

    Example:

    ```python
    x = keras.Input(shape=(10, 3))
    y = keras.layers.Conv1D(8, 3, padding="same")(x)  # y.shape == (None, 10, 8)
    ```
    """

    # As Keras 3's Conv1D.call (it convolves with `ops.conv` itself, for causal padding), `call`
    # does not run an overridden `convolution_op`; calling it explicitly works as usual.
    _keras_call_uses_convolution_op = False

    def __init__(
        self,
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
        **kwargs,
    ):
        super().__init__(
            rank=1,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )


class Conv2D(BaseConv):
    """2-D convolution layer (spatial convolution over images).

    Input shape: `(batch, rows, cols, channels)` (channels_last) or `(batch, channels, rows, cols)`.
    Output shape: `(batch, new_rows, new_cols, filters)`
    (channels_last) or `(batch, filters, new_rows, new_cols)`.
    Stored like `nn.Conv2d` (`weight`, `bias`); Keras kernel layout
    `(kh, kw, in // groups, filters)`. See `BaseConv` for the arguments.

    Example:

    ```python
    x = keras.Input(shape=(32, 32, 3))
    y = keras.layers.Conv2D(8, 3, padding="same")(x)  # y.shape == (None, 32, 32, 8)
    ```
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
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
        **kwargs,
    ):
        super().__init__(
            rank=2,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )


class Conv3D(BaseConv):
    """3-D convolution layer (spatial convolution over volumes).

    Input shape: `(batch, d1, d2, d3, channels)` (channels_last) or `(batch, channels, d1, d2, d3)`.
    Output shape: `(batch, new_d1, new_d2, new_d3, filters)`
    (channels_last) or `(batch, filters, new_d1, new_d2, new_d3)`.
    Stored like `nn.Conv3d` (`weight`, `bias`); Keras kernel layout
    `(k1, k2, k3, in // groups, filters)`. See `BaseConv` for the arguments.

    Example:

    ```python
    x = keras.Input(shape=(8, 8, 8, 3))
    y = keras.layers.Conv3D(8, 3, padding="same")(x)  # y.shape == (None, 8, 8, 8, 8)
    ```
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
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
        **kwargs,
    ):
        super().__init__(
            rank=3,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
