"""What the built-in recurrent cells share: argument checks, dropout masks, projections, configs."""

import numbers

import torch
import torch.nn.functional as F

from keraslike import activations, constraints, initializers, regularizers
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none
from keraslike.random import random as random_ops
from keraslike.random.seed_generator import SeedGenerator, hold_unsaved


def check_units(value, layer_class, name=None, arg="units"):
    """Raises the ValueError of an invalid `units`/`filters`, naming layer, argument and value."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        who = f'"{name}" ({layer_class})' if name else layer_class
        raise ValueError(
            f"Received an invalid value for argument `{arg}` of layer {who}: expected a positive "
            f"integer, got {arg}={value!r}."
        )


def check_rate(value, layer_class, arg):
    """Clips a dropout rate into [0, 1] as Keras does, after checking it is a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"Received an invalid value for argument `{arg}` of layer {layer_class}: expected a "
            f"float between 0 and 1, got {arg}={value!r}."
        )
    return min(1.0, max(0.0, float(value)))


def is_tanh(fn):
    return fn is activations.tanh or fn is torch.tanh


def is_sigmoid(fn):
    return fn is activations.sigmoid or fn is torch.sigmoid


def dropout_mask(like, rate, count=None, seed=None):
    """Keras's dropout mask: ones dropped with probability `rate`, kept ones scaled by 1/(1-rate).

    Drawn as Keras's `DropoutRNNCell` draws it, `keras.random.dropout(ones_like(like), rate,
    seed)`, and `count` times in turn for one mask per gate, so a seeded run (a cell `seed`, or
    `set_random_seed` for the global generator) gets Keras's masks.

    Returns a mask shaped like `like`, or `(count, *like.shape)` for one mask per gate.
    """
    ones = torch.ones_like(like)
    if count is None:
        return random_ops.dropout(ones, rate, seed=seed)
    return torch.stack([random_ops.dropout(ones, rate, seed=seed) for _ in range(count)])


def input_projection(x, weight, bias, masks):
    """`x @ weight.T + bias` for every step at once; `masks` is None, one mask, or one per gate.

    Args:
        x: `(batch, time, features)` or `(batch, features)`.
        weight: torch layout `(gates * units, features)`.
        bias: `(gates * units,)` or None.
        masks: None, `(batch, features)`, or `(gates, batch, features)` (Keras implementation 1).
    """
    if masks is None:
        return F.linear(x, weight, bias)
    if masks.dim() == 2:
        return F.linear(x * (masks.unsqueeze(1) if x.dim() == 3 else masks), weight, bias)
    gates = masks.shape[0]
    weights = weight.chunk(gates, 0)
    biases = bias.chunk(gates, 0) if bias is not None else [None] * gates
    parts = []
    for g in range(gates):
        m = masks[g].unsqueeze(1) if x.dim() == 3 else masks[g]
        parts.append(F.linear(x * m, weights[g], biases[g]))
    return torch.cat(parts, dim=-1)


def recurrent_projection(h, weight, masks):
    """`h @ weight.T`, with None, one recurrent dropout mask, or one mask per gate."""
    if masks is None:
        return F.linear(h, weight)
    if masks.dim() == 2:
        return F.linear(h * masks, weight)
    gates = masks.shape[0]
    units_out = weight.shape[0] // gates
    hm = h.unsqueeze(0) * masks  # (gates, batch, units)
    w = weight.view(gates, units_out, weight.shape[1])
    out = torch.bmm(hm, w.transpose(1, 2))  # (gates, batch, units_out)
    return out.transpose(0, 1).reshape(h.shape[0], gates * units_out)


class RecurrentCell(Layer):
    """Base of the built-in cells (`SimpleRNNCell`, `LSTMCell`, `GRUCell`, `ConvLSTMCell`).

    Besides Keras's cell API (`call(inputs, states, training)`, `state_size`, `output_size`,
    `get_initial_state`), a built-in cell tells its RNN layer how to run a whole sequence fast:
    `_loop_parts` precomputes the input projections of all steps in one matmul and returns the
    per-step function, and `_fused` (where the configuration allows) runs torch's fused kernel.

    Dropout follows Keras: one mask per call reused at every step (`dropout` on the inputs,
    `recurrent_dropout` on the state), one mask per gate when `recurrent_dropout` is set.
    """

    gates = 1
    single_masks = False  # SimpleRNN: one mask for all gates even with recurrent dropout
    # Which of Keras's per-gate masks (drawn in Keras's gate order) each torch gate takes.
    gate_mask_order = None

    def __init__(self, units, dropout, recurrent_dropout, seed, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dropout = check_rate(dropout, type(self).__name__, "dropout")
        self.recurrent_dropout = check_rate(
            recurrent_dropout, type(self).__name__, "recurrent_dropout"
        )
        self.seed = seed
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    _seed_taken_first = False  # see `_resolve_common`

    def _resolve_common(self, activation, use_bias, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer, recurrent_regularizer,
                        bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint):
        # Keras's cell makes a `SeedGenerator` (an unseeded one takes a seed from Python's
        # `random`) before its initializers (SimpleRNN, ConvLSTM) or after them (LSTM, GRU):
        # made at the same point, so the initializers draw Keras's seeds.
        if self._seed_taken_first:
            self._hold_seed_generator()
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        if not self._seed_taken_first:
            self._hold_seed_generator()

    def _hold_seed_generator(self):
        # A seeded cell's dropout masks come from this generator (an unseeded one's from torch's
        # global generator, as Keras's); it is kept out of the module tree: `variables` lists
        # its state as Keras's do; nothing is saved.
        hold_unsaved(self, "seed_generator", SeedGenerator(self.seed))

    # ------------------------------------------------------------------ Keras cell API

    @property
    def mask_count(self):
        """Masks per dropout kind: one per gate in Keras's implementation 1, else one."""
        if self.single_masks or self.recurrent_dropout == 0:
            return None
        return self.gates

    @property
    def _mask_seed(self):
        """The cell's `SeedGenerator`: seeded (`seed=`) masks come from it, as in Keras."""
        return self.__dict__.get("seed_generator")

    def get_dropout_mask(self, step_input):
        """The input dropout mask for this call (created once, reused at every step)."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._draw_masks(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        """The recurrent dropout mask for this call (created once, reused at every step)."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._draw_masks(step_input, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def _step_masks(self, inputs, state, training):
        """The (input, recurrent) dropout masks for a direct cell call (None when not training)."""
        dp = rdp = None
        if training and 0.0 < self.dropout < 1.0:
            dp = self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rdp = self.get_recurrent_dropout_mask(state)
        return dp, rdp

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        dtype = getattr(torch, self.compute_dtype)
        return [torch.zeros((batch_size, s), dtype=dtype) for s in sizes]

    # ------------------------------------------------------------------ fast sequence API

    def _zero_states(self, x, inputs=None):
        """Zero states for a `(batch, time, ...)` input (`inputs`: its per-step projections)."""
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [x.new_zeros((x.shape[0], s)) for s in sizes]

    def _masks(self, x, training):
        """(input masks, recurrent masks) for one call on `(batch, time, features)` inputs."""
        if not training:
            return None, None
        dp = rdp = None
        if 0.0 < self.dropout < 1.0:
            dp = self._draw_masks(x[:, 0], self.dropout)
        if 0.0 < self.recurrent_dropout < 1.0:
            rdp = self._draw_masks(x.new_empty((x.shape[0], self.units)), self.recurrent_dropout)
        return dp, rdp

    def _draw_unused_masks(self, x):
        """Draws (and drops) the masks of an inference call on `(batch, time, features)` inputs.

        Keras's RNN draws its cell's dropout masks before every call, training or not, so its
        random stream (global, or the cell's seed) moves on at each `evaluate` / `predict` /
        validation batch: the same draws keep a seeded run's later masks equal to Keras's.
        """
        if x.device.type == "meta":
            return
        if self.dropout > 0:
            self._draw_masks(x[:, 0], self.dropout)
        if self.recurrent_dropout > 0:
            self._draw_masks(x.new_empty((x.shape[0], self.units)), self.recurrent_dropout)

    def _draw_masks(self, like, rate):
        """This call's mask(s) for dropout `rate`, one per gate in torch's gate order."""
        masks = dropout_mask(like, rate, self.mask_count, self._mask_seed)
        if self.mask_count is not None and self.gate_mask_order is not None:
            masks = masks[list(self.gate_mask_order)]
        return masks

    def _fused_ok(self):
        """Whether torch's fused kernel computes this configuration (standard activations...)."""
        return False

    def _fused(self, x, states, lengths=None, sorted_info=None):
        raise NotImplementedError

    def _loop_parts(self, x, training):
        """Returns `(inputs_per_step, step_fn)`; `step_fn(input_t, states) -> (output, states)`."""
        raise NotImplementedError

    def _common_config(self):
        return {
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }

    def _regularizer_config(self):
        return {
            "kernel_regularizer": serialize_or_none(regularizers, self.kernel_regularizer),
            "recurrent_regularizer": serialize_or_none(regularizers, self.recurrent_regularizer),
            "bias_regularizer": serialize_or_none(regularizers, self.bias_regularizer),
            "kernel_constraint": serialize_or_none(constraints, self.kernel_constraint),
            "recurrent_constraint": serialize_or_none(constraints, self.recurrent_constraint),
            "bias_constraint": serialize_or_none(constraints, self.bias_constraint),
        }
