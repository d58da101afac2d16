"""LSTMCell and LSTM (Hochreiter & Schmidhuber 1997), stored like `nn.LSTM`."""

import torch

from keraslike import activations
from keraslike.layers.recurrent import fused
from keraslike.layers.recurrent.builtin import (
    COMMON_PROPERTIES,
    BuiltinRNN,
    delegate_to_cell,
    make_cell_kwargs,
    zeros_hx,
)
from keraslike.layers.recurrent.cell_base import (
    RecurrentCell,
    check_units,
    input_projection,
    is_sigmoid,
    is_tanh,
    recurrent_projection,
)
from keraslike.layers.recurrent.layouts import SummedBias
from keraslike.layers.weight_layout import TRANSPOSED


def forget_bias_initializer(base, units):
    """Keras's `unit_forget_bias`: `base` for the i, c, o gates and ones for the forget gate."""

    def initializer(shape, dtype=None):
        parts = [base((units,), dtype=dtype), torch.ones(units), base((2 * units,), dtype=dtype)]
        parts = [torch.as_tensor(p) for p in parts]
        return torch.cat([p.to(parts[0].dtype) for p in parts])

    return initializer


class LSTMCell(RecurrentCell):
    """Cell class for the LSTM layer: one step of `LSTM`.

    Weights are stored like `nn.LSTM`'s (`weight_ih_l0 (4u, in)`, `weight_hh_l0 (4u, u)`,
    `bias_ih_l0 (4u,)` plus a `bias_hh_l0` buffer); Keras's `kernel (in, 4u)`,
    `recurrent_kernel (u, 4u)` and `bias (4u,)` (gates i, f, c, o in both) are what
    `get_weights()`, `cell.kernel`... give.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation of the cell and output (`"tanh"`).
        recurrent_activation: Activation of the gates (`"sigmoid"`).
        use_bias: Whether to use a bias.
        kernel_initializer: Initializer of `kernel` (`"glorot_uniform"`).
        recurrent_initializer: Initializer of `recurrent_kernel` (`"orthogonal"`).
        bias_initializer: Initializer of `bias` (`"zeros"`).
        unit_forget_bias: Add 1 to the forget-gate bias at initialization (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the inputs dropped (one mask per sequence).
        recurrent_dropout: Fraction of the recurrent state dropped.
        seed: Random seed of the dropout masks (`None`: torch's global generator, as Keras).

    Call arguments:
        inputs: `(batch, features)`.
        states: `[h, c]`, each `(batch, units)`.
        training: Whether dropout is active.
    """

    gates = 4

    def __init__(
        self,
        units,
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
        check_units(units, type(self).__name__, kwargs.get("name"))
        implementation = kwargs.pop("implementation", 2)
        super().__init__(units, dropout, recurrent_dropout, seed, **kwargs)
        self.implementation = 1 if self.recurrent_dropout else implementation
        self._resolve_common(
            activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint,
        )
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        units = self.units
        self.add_weight(
            shape=(input_dim, 4 * units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight_ih_l0",
            layout=TRANSPOSED,
        )
        self.add_weight(
            shape=(units, 4 * units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
            torch_name="weight_hh_l0",
            layout=TRANSPOSED,
        )
        if self.use_bias:
            dtype = getattr(torch, self.dtype)
            self.register_buffer("bias_hh_l0", torch.zeros(4 * units, dtype=dtype))
            initializer = self.bias_initializer
            if self.unit_forget_bias:
                initializer = forget_bias_initializer(self.bias_initializer, units)
            self.add_weight(
                shape=(4 * units,),
                initializer=initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
                torch_name="bias_ih_l0",
                layout=SummedBias(self),
            )
        else:
            self.bias = None
        self.built = True

    # ------------------------------------------------------------------ computation

    def _bias(self):
        if not self.use_bias:
            return None
        return self._parameters["bias_ih_l0"] + self._buffers["bias_hh_l0"]

    def _make_step(self, recurrent_masks):
        w_hh = self._parameters["weight_hh_l0"]
        act, rec = self.activation, self.recurrent_activation

        def step(p, states):
            h, c = states[0], states[1]
            z = p + recurrent_projection(h, w_hh, recurrent_masks)
            i, f, g, o = z.chunk(4, dim=1)
            c = rec(f) * c + rec(i) * act(g)
            h = rec(o) * act(c)
            return h, [h, c]

        return step

    def call(self, inputs, states, training=None):
        if training is None:
            training = self.training
        h = states[0]
        dp, rdp = self._step_masks(inputs, h, training)
        p = input_projection(inputs, self._parameters["weight_ih_l0"], self._bias(), dp)
        return self._make_step(rdp)(p, states)

    def _loop_parts(self, x, training):
        dp, rdp = self._masks(x, training)
        p = input_projection(x, self._parameters["weight_ih_l0"], self._bias(), dp)
        return p, self._make_step(rdp)

    def _fused_ok(self):
        return is_tanh(self.activation) and is_sigmoid(self.recurrent_activation)

    def _params(self):
        p = self._parameters
        if self.use_bias:
            bias_hh = self._buffers["bias_hh_l0"]
            return [p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], bias_hh]
        return [p["weight_ih_l0"], p["weight_hh_l0"]]

    def _fused(self, x, states, lengths=None):
        if states is None:
            zeros = zeros_hx(x, self.units)
            hx = (zeros, zeros)
        else:
            hx = (states[0].unsqueeze(0), states[1].unsqueeze(0))
        return fused.run("LSTM", x, hx, self._params(), self.use_bias, lengths)

    def _flatten_weights(self):
        w = self._parameters["weight_ih_l0"]
        fused.flatten_for_cudnn(self._params(), "LSTM", w.shape[1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
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


@delegate_to_cell(*COMMON_PROPERTIES, "recurrent_activation", "unit_forget_bias")
class LSTM(BuiltinRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras 3's `keras.layers.LSTM`.

    The weights are stored like `nn.LSTM`'s (`state_dict()` keys `weight_ih_l0`,
    `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`) and the default configuration (tanh/sigmoid,
    no recurrent dropout in training, no mask or a right-padded mask) runs torch's fused LSTM
    kernel (cuDNN on CUDA), as Keras does with cuDNN. Other configurations run a step loop with
    the input projections of all steps computed at once. `get_weights()` gives Keras's
    `[kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)]`, gates i, f, c, o.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation of the cell and output (`"tanh"`).
        recurrent_activation: Activation of the gates (`"sigmoid"`).
        use_bias: Whether to use a bias.
        kernel_initializer: Initializer of `kernel` (`"glorot_uniform"`).
        recurrent_initializer: Initializer of `recurrent_kernel` (`"orthogonal"`).
        bias_initializer: Initializer of `bias` (`"zeros"`).
        unit_forget_bias: Add 1 to the forget-gate bias at initialization (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional penalties.
        activity_regularizer: Optional penalty on the output.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: Fraction of the recurrent state dropped in training.
        seed: Random seed of the dropout masks (`None`: torch's global generator, as Keras).
        return_sequences: Return the whole output sequence, not only the last output.
        return_state: Also return the final states: `[output, h, c]`.
        go_backwards: Process the sequence backwards and return the reversed sequence.
        stateful: Carry the final states of a batch over to the next batch.
        unroll: Accepted for Keras compatibility.
        use_cudnn: `"auto"` (fused kernel when the configuration allows), `False` (always the
            step loop) or `True` (error when the fused kernel cannot be used).

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: Optional `[h, c]`, each `(batch, units)`.
        mask: Optional `(batch, timesteps)` bool tensor: masked steps keep the previous state.
        training: Whether dropout is active.

    Example:

    ```python
    x = keras.Input(shape=(10, 8))
    seq, h, c = keras.layers.LSTM(4, return_sequences=True, return_state=True)(x)
    # seq.shape == (None, 10, 4), h.shape == c.shape == (None, 4)
    ```
    """

    def __init__(
        self,
        units,
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
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        check_units(units, type(self).__name__, kwargs.get("name"))
        cell = LSTMCell(
            units,
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
            **make_cell_kwargs(kwargs, "lstm_cell"),
        )
        super().__init__(
            cell,
            use_cudnn=use_cudnn,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )

