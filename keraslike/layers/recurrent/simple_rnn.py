"""SimpleRNNCell and SimpleRNN (fully connected recurrence), stored like `nn.RNN`."""

import torch

from keraslike import activations
from keraslike.layers.recurrent import fused
from keraslike.layers.recurrent.builtin import (
    COMMON_PROPERTIES,
    BuiltinRNN,
    as_hx,
    delegate_to_cell,
    make_cell_kwargs,
)
from keraslike.layers.recurrent.cell_base import (
    RecurrentCell,
    check_units,
    input_projection,
    is_tanh,
    recurrent_projection,
)
from keraslike.layers.recurrent.layouts import SummedBias
from keraslike.layers.weight_layout import TRANSPOSED


def _is_relu(fn):
    return fn is activations.relu or fn is torch.relu or fn is torch.nn.functional.relu


class SimpleRNNCell(RecurrentCell):
    """Cell class for SimpleRNN: `output = activation(x @ kernel + h @ recurrent_kernel + bias)`.

    Weights are stored like `nn.RNN`'s (`weight_ih_l0 (u, in)`, `weight_hh_l0 (u, u)`,
    `bias_ih_l0` plus a `bias_hh_l0` buffer); `get_weights()` gives Keras's
    `[kernel (in, u), recurrent_kernel (u, u), bias (u,)]`.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation (`"tanh"`).
        use_bias: Whether to use a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers
            (`"glorot_uniform"`, `"orthogonal"`, `"zeros"`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the inputs dropped.
        recurrent_dropout: Fraction of the recurrent state dropped.
        seed: Random seed of the dropout masks (`None`: torch's global generator, as Keras).
    """

    _seed_taken_first = True  # Keras's cell makes its SeedGenerator before its initializers

    gates = 1
    single_masks = True

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        kwargs.pop("implementation", None)
        super().__init__(units, dropout, recurrent_dropout, seed, **kwargs)
        self._resolve_common(
            activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint,
        )
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        units = self.units
        self.add_weight(
            shape=(input_dim, units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight_ih_l0",
            layout=TRANSPOSED,
        )
        self.add_weight(
            shape=(units, units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
            torch_name="weight_hh_l0",
            layout=TRANSPOSED,
        )
        if self.use_bias:
            dtype = getattr(torch, self.dtype)
            self.register_buffer("bias_hh_l0", torch.zeros(units, dtype=dtype))
            self.add_weight(
                shape=(units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
                torch_name="bias_ih_l0",
                layout=SummedBias(self),
            )
        else:
            self.bias = None
        self.built = True

    def _bias(self):
        if not self.use_bias:
            return None
        return self._parameters["bias_ih_l0"] + self._buffers["bias_hh_l0"]

    def _make_step(self, recurrent_mask):
        w_hh = self._parameters["weight_hh_l0"]
        act = self.activation

        def step(p, states):
            h = act(p + recurrent_projection(states[0], w_hh, recurrent_mask))
            return h, [h]

        return step

    def call(self, sequence, states, training=None):
        if training is None:
            training = self.training
        nested = isinstance(states, (list, tuple))
        h = states[0] if nested else states
        dp, rdp = self._step_masks(sequence, h, training)
        p = input_projection(sequence, self._parameters["weight_ih_l0"], self._bias(), dp)
        output, new_states = self._make_step(rdp)(p, [h])
        return output, (new_states if nested else new_states[0])

    def _loop_parts(self, x, training):
        dp, rdp = self._masks(x, training)
        p = input_projection(x, self._parameters["weight_ih_l0"], self._bias(), dp)
        return p, self._make_step(rdp)

    def _mode(self):
        if is_tanh(self.activation):
            return "RNN_TANH"
        if _is_relu(self.activation):
            return "RNN_RELU"
        return None

    def _fused_ok(self):
        return self._mode() is not None

    def _params(self):
        p = self._parameters
        if self.use_bias:
            bias_hh = self._buffers["bias_hh_l0"]
            return [p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], bias_hh]
        return [p["weight_ih_l0"], p["weight_hh_l0"]]

    def _fused(self, x, states, lengths=None):
        hx = as_hx(states, x, self.units)
        return fused.run(self._mode(), x, hx, self._params(), self.use_bias, lengths)

    def _flatten_weights(self):
        if self._mode() is None:
            return
        w = self._parameters["weight_ih_l0"]
        fused.flatten_for_cudnn(self._params(), self._mode(), w.shape[1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                **self._common_config(),
                **self._regularizer_config(),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


@delegate_to_cell(*COMMON_PROPERTIES)
class SimpleRNN(BuiltinRNN):
    """Fully-connected RNN where the output is fed back as the next input (Keras's SimpleRNN).

    `tanh` and `relu` activations run torch's fused `nn.RNN` kernels; weights are stored like
    `nn.RNN`'s and `get_weights()` gives Keras's `[kernel, recurrent_kernel, bias]`.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation (`"tanh"`).
        use_bias: Whether to use a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional penalties.
        activity_regularizer: Optional penalty on the output.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the inputs dropped in training.
        recurrent_dropout: Fraction of the recurrent state dropped in training.
        seed: Random seed of the dropout masks (`None`: torch's global generator, as Keras).
        return_sequences: Return the whole output sequence.
        return_state: Also return the final state: `[output, h]`.
        go_backwards: Process the sequence backwards and return the reversed sequence.
        stateful: Carry the final state of a batch over to the next batch.
        unroll: Accepted for Keras compatibility.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: Optional `[h]` (or `h`), `(batch, units)`.
        mask: Optional `(batch, timesteps)` bool tensor.
        training: Whether dropout is active.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        check_units(units, type(self).__name__, kwargs.get("name"))
        cell = SimpleRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **make_cell_kwargs(kwargs, "simple_rnn_cell"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config.pop("seed", None)  # Keras's SimpleRNN (unlike its cell) does not save the seed
        return config
