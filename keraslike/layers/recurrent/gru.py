"""GRUCell and GRU (Cho et al. 2014), stored like `nn.GRU` (gates r, z, n)."""

import torch
import torch.nn.functional as F

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
    is_sigmoid,
    is_tanh,
    recurrent_projection,
)
from keraslike.layers.recurrent.layouts import GRU_ORDER, GateLayout

KERNEL_LAYOUT = GateLayout(3, GRU_ORDER, transpose=True)
BIAS_LAYOUT = GateLayout(3, GRU_ORDER, transpose=False)


class GRUCell(RecurrentCell):
    """Cell class for the GRU layer: one step of `GRU`.

    Weights are stored like `nn.GRU`'s, gates r, z, n: `weight_ih_l0 (3u, in)`,
    `weight_hh_l0 (3u, u)` and `bias`: `(2, 3u)` (rows: `nn.GRU`'s `bias_ih_l0`, `bias_hh_l0`)
    with `reset_after=True`, `(3u,)` otherwise. `get_weights()` gives Keras's `kernel (in, 3u)`,
    `recurrent_kernel (u, 3u)` and `bias` in Keras's gate order z, r, h.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation of the candidate state (`"tanh"`).
        recurrent_activation: Activation of the gates (`"sigmoid"`).
        use_bias: Whether to use biases.
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers
            (`"glorot_uniform"`, `"orthogonal"`, `"zeros"`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: Optional constraints.
        dropout: Fraction of the inputs dropped (one mask per sequence).
        recurrent_dropout: Fraction of the recurrent state dropped.
        reset_after: Apply the reset gate after the recurrent matmul (default True, torch's and
            cuDNN's convention, with separate input and recurrent biases).
        seed: Random seed of the dropout masks (`None`: torch's global generator, as Keras).
    """

    gates = 3
    gate_mask_order = (1, 0, 2)  # Keras draws the z, r, h masks; torch gates are r, z, n

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        reset_after=True,
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
        self.reset_after = reset_after
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        units = self.units
        self.add_weight(
            shape=(input_dim, 3 * units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight_ih_l0",
            layout=KERNEL_LAYOUT,
        )
        self.add_weight(
            shape=(units, 3 * units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
            torch_name="weight_hh_l0",
            layout=KERNEL_LAYOUT,
        )
        if self.use_bias:
            self.add_weight(
                shape=(2, 3 * units) if self.reset_after else (3 * units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
                layout=BIAS_LAYOUT,
            )
        else:
            self.bias = None
        self.built = True

    # ------------------------------------------------------------------ computation

    def _biases(self):
        """(input bias, recurrent bias) in torch's gate order; either may be None."""
        if not self.use_bias:
            return None, None
        bias = self._parameters["bias"]
        if self.reset_after:
            return bias[0], bias[1]
        return bias, None

    def _make_step(self, recurrent_masks):
        w_hh = self._parameters["weight_hh_l0"]
        act, rec = self.activation, self.recurrent_activation
        units = self.units
        _, recurrent_bias = self._biases()

        if self.reset_after:

            def step(p, states):
                h = states[0]
                hp = recurrent_projection(h, w_hh, recurrent_masks)
                if recurrent_bias is not None:
                    hp = hp + recurrent_bias
                x_r, x_z, x_n = p.split(units, dim=1)
                h_r, h_z, h_n = hp.split(units, dim=1)
                r = rec(x_r + h_r)
                z = rec(x_z + h_z)
                n = act(x_n + r * h_n)
                h = z * h + (1 - z) * n
                return h, [h]

            return step

        w_rz, w_n = w_hh[: 2 * units], w_hh[2 * units :]
        masks_rz = recurrent_masks[:2] if recurrent_masks is not None else None
        mask_n = recurrent_masks[2] if recurrent_masks is not None else None

        def step_before(p, states):
            h = states[0]
            hp = recurrent_projection(h, w_rz, masks_rz)
            x_r, x_z, x_n = p.split(units, dim=1)
            h_r, h_z = hp.split(units, dim=1)
            r = rec(x_r + h_r)
            z = rec(x_z + h_z)
            h_in = h * mask_n if mask_n is not None else h
            n = act(x_n + F.linear(r * h_in, w_n))
            h = z * h + (1 - z) * n
            return h, [h]

        return step_before

    def call(self, inputs, states, training=None):
        if training is None:
            training = self.training
        nested = isinstance(states, (list, tuple))
        h = states[0] if nested else states
        dp, rdp = self._step_masks(inputs, h, training)
        p = input_projection(inputs, self._parameters["weight_ih_l0"], self._biases()[0], dp)
        output, new_states = self._make_step(rdp)(p, [h])
        return output, (new_states if nested else new_states[0])

    def _loop_parts(self, x, training):
        dp, rdp = self._masks(x, training)
        p = input_projection(x, self._parameters["weight_ih_l0"], self._biases()[0], dp)
        return p, self._make_step(rdp)

    def _fused_ok(self):
        standard = is_tanh(self.activation) and is_sigmoid(self.recurrent_activation)
        return self.reset_after and standard

    def _params(self):
        p = self._parameters
        if self.use_bias:
            return [p["weight_ih_l0"], p["weight_hh_l0"], p["bias"][0], p["bias"][1]]
        return [p["weight_ih_l0"], p["weight_hh_l0"]]

    def _fused(self, x, states, lengths=None):
        hx = as_hx(states, x, self.units)
        return fused.run("GRU", x, hx, self._params(), self.use_bias, lengths)

    def _flatten_weights(self):
        if not self.reset_after:
            return
        p = self._parameters
        w_ih, w_hh = p["weight_ih_l0"], p["weight_hh_l0"]
        if not self.use_bias:
            fused.flatten_for_cudnn([w_ih, w_hh], "GRU", w_ih.shape[1], self.units)
            return
        bias = p["bias"]
        if not bias.is_cuda:
            return
        # Flatten with stand-ins for the two bias rows, then make `bias` the (2, 3u) view of
        # the flat buffer that holds them, when cuDNN put them side by side.
        b_ih, b_hh = bias[0].clone(), bias[1].clone()
        if not fused.flatten_for_cudnn([w_ih, w_hh, b_ih, b_hh], "GRU", w_ih.shape[1], self.units):
            return
        step = b_ih.numel() * b_ih.element_size()
        if b_hh.data_ptr() == b_ih.data_ptr() + step:
            with torch.no_grad():
                bias.set_(b_ih.untyped_storage(), b_ih.storage_offset(), tuple(bias.shape),
                          (bias.shape[1], 1))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                **self._common_config(),
                **self._regularizer_config(),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "reset_after": self.reset_after,
                "seed": self.seed,
            }
        )
        return config


@delegate_to_cell(*COMMON_PROPERTIES, "recurrent_activation", "reset_after")
class GRU(BuiltinRNN):
    """Gated Recurrent Unit (Cho et al. 2014), Keras 3's `keras.layers.GRU`.

    With the defaults (`reset_after=True`, tanh/sigmoid, no recurrent dropout in training, no
    mask or a right-padded mask) it runs torch's fused GRU kernel (cuDNN on CUDA); otherwise a
    step loop. Weights are stored like `nn.GRU`'s (gates r, z, n; `weight_ih_l0`,
    `weight_hh_l0`, and `bias (2, 3u)` whose rows are `bias_ih_l0`, `bias_hh_l0`);
    `get_weights()` gives Keras's `[kernel (in, 3u), recurrent_kernel (u, 3u), bias]` with
    gates z, r, h and `bias` of shape `(2, 3u)` (`reset_after=True`) or `(3u,)`.

    Args:
        units: Positive integer, dimensionality of the output space.
        activation: Activation of the candidate state (`"tanh"`).
        recurrent_activation: Activation of the gates (`"sigmoid"`).
        use_bias: Whether to use biases.
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
        reset_after: Reset gate after the recurrent matmul (default True).
        use_cudnn: `"auto"`, `False` (always the step loop) or `True`.

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
        recurrent_activation="sigmoid",
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
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        check_units(units, type(self).__name__, kwargs.get("name"))
        cell = GRUCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
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
            reset_after=reset_after,
            seed=seed,
            **make_cell_kwargs(kwargs, "gru_cell"),
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
