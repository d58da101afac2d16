"""RNN: runs a cell over the time axis (Keras's `keras.layers.RNN`), and the step loop itself."""

import inspect

import torch

from keraslike.graph import nest
from keraslike.layers.layer import Layer
from keraslike.layers.recurrent import fused
from keraslike.layers.recurrent._serialization import (
    build_sublayer,
    deserialize_layer,
    serialize_layer,
)
from keraslike.layers.recurrent.cell_base import RecurrentCell, dropout_mask
from keraslike.layers.recurrent.stacked_rnn_cells import StackedRNNCells
from keraslike.random.seed_generator import hold_unsaved


def _expand_mask(mask_t, like):
    """`(batch,)` step mask -> broadcastable against `like` `(batch, ...)`."""
    return mask_t.view((mask_t.shape[0],) + (1,) * (like.dim() - 1))


def run_loop(step, inputs, states, mask=None, go_backwards=False, return_sequences=False,
             zero_output_for_mask=False):
    """Runs `step` over the time axis of `inputs`, with Keras's masking semantics.

    At a masked step the states keep their previous values and the output repeats the previous
    output (zeros before the first unmasked step), or is zero with `zero_output_for_mask`.

    Args:
        step: `step(input_t, states) -> (output, new_states)`.
        inputs: `(batch, time, ...)` tensor of per-step inputs.
        states: List of state tensors.
        mask: Optional `(batch, time)` bool tensor.
        go_backwards: Process the steps in reverse; outputs come in processing order (Keras).
        return_sequences: Whether to collect every step's output.
        zero_output_for_mask: Masked steps output zeros.

    Returns:
        `(last_output, outputs or None, final_states)`.
    """
    if go_backwards:
        inputs = inputs.flip(1)
        mask = mask.flip(1) if mask is not None else None
    xs = inputs.unbind(1)
    ms = mask.unbind(1) if mask is not None else None
    outputs = []
    output = None
    for t in range(len(xs)):
        new_output, new_states = step(xs[t], states)
        if ms is not None:
            m = ms[t]
            mo = _expand_mask(m, new_output)
            if zero_output_for_mask or output is None:
                new_output = torch.where(mo, new_output, torch.zeros_like(new_output))
            else:
                new_output = torch.where(mo, new_output, output)
            flat = [
                torch.where(_expand_mask(m, n), n, s)
                for n, s in zip(nest.flatten(new_states), nest.flatten(states))
            ]
            new_states = nest.pack_like(list(new_states), flat)
        output, states = new_output, list(new_states)
        if return_sequences:
            outputs.append(output)
    sequence = torch.stack(outputs, dim=1) if return_sequences else None
    return output, sequence, states


def _reset_dropout_masks(cell):
    cells = list(cell.modules()) if isinstance(cell, torch.nn.Module) else [cell]
    for c in cells:
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if callable(getattr(c, reset, None)):
                getattr(c, reset)()


def _prepopulate_dropout_masks(cell, step_input, state):
    """Draws a generic cell's dropout masks before the loop, as Keras's `RNN.call` does.

    Keras draws them on every call, training or not (a `StackedRNNCells` runs each cell once
    to shape the next one's mask), so an inference call moves the random stream on as Keras's
    does; in training the cells then reuse these masks at every step.
    """
    if step_input.device.type == "meta":
        return
    if callable(getattr(cell, "get_dropout_mask", None)) and callable(
        getattr(cell, "get_recurrent_dropout_mask", None)
    ):
        cell.get_dropout_mask(step_input)
        cell.get_recurrent_dropout_mask(state[0] if isinstance(state, (list, tuple)) else state)
    if isinstance(cell, StackedRNNCells):
        for inner, inner_state in zip(cell.cells, state):
            _prepopulate_dropout_masks(inner, step_input, inner_state)
            if not isinstance(inner_state, (list, tuple)):
                inner_state = [inner_state]
            step_input, _ = (inner if callable(inner) else inner.call)(step_input, list(inner_state))


class RNN(Layer):
    """Base class for recurrent layers: applies a cell to every step of a sequence.

    `SimpleRNN`, `LSTM` and `GRU` are RNNs with a built-in cell; `RNN(cell)` runs any cell: an
    object with `call(inputs, states[, training])` returning `(output, new_states)` and a
    `state_size` (an int or a list of ints). With the built-in cells the input projections of
    all steps are one matmul, and the standard configurations run torch's fused kernels.

    Args:
        cell: An RNN cell instance.
        return_sequences: Return the output of every step (`(batch, time, units)`) rather than
            the last one.
        return_state: Also return the final states: `[output, *states]`.
        go_backwards: Process the sequence backwards (and return the reversed sequence).
        stateful: Use each batch's final states as the next batch's initial states (the batch
            size must be fixed); `reset_state()` zeroes them.
        unroll: Accepted for Keras compatibility (the loop is a Python loop either way).
        zero_output_for_mask: Output zeros (rather than the previous output) at masked steps.

    Call arguments:
        sequences: `(batch, time, features)`.
        initial_state: Optional list of initial state tensors.
        mask: Optional `(batch, time)` bool tensor; masked steps keep the previous state.
        training: Whether dropout is active (defaults to the layer's `training` flag).

    Example:

    ```python
    x = keras.Input(shape=(None, 8))
    y = keras.layers.RNN(keras.layers.LSTMCell(16), return_sequences=True)(x)  # (None, None, 16)
    ```
    """

    _keras_call_training_default = False  # Keras records training=False in its nodes

    _owns_cell = False  # built-in layers keep their cell's weights themselves (nn.LSTM's keys)
    # Input axes torch.export cannot keep dynamic: the loop over time (or torch's fused kernel,
    # like nn.LSTM's) specializes the sequence length; `model.export` names the layer for it.
    _export_static_axes = (1,)

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if getattr(cell, "state_size", None) is None:
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of "
                f"integers, one integer per RNN state). Received: cell={cell}"
            )
        state_size = cell.state_size
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers (one for each state "
                "tensor)."
            )
        super().__init__(**kwargs)
        if self._owns_cell:
            self._adopt_cell(cell)
        else:
            self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = None
        self.use_cudnn = "auto"
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)
        self._state_names = None

    def _adopt_cell(self, cell):
        """Keeps `cell` as `self.cell` without making it a submodule: its weights are ours.

        The cell's parameter and buffer tables *are* this layer's, so `state_dict()` reads
        `weight_ih_l0, ...` (as `nn.LSTM`'s) while `layer.cell.kernel` and the cell's own call
        keep working on the same tensors.
        """
        object.__setattr__(self, "cell", cell)
        for table in ("_parameters", "_buffers", "_non_persistent_buffers_set", "_weight_specs"):
            cell.__dict__[table] = self.__dict__[table]
        generator = cell.__dict__.get("seed_generator")
        if generator is not None:  # listed after the cell's weights in `variables`, as Keras's
            hold_unsaved(self, "_cell_seed_generator", generator)

    # ------------------------------------------------------------------ building and states

    def build(self, sequences_shape):
        shape = tuple(sequences_shape)
        step_shape = (shape[0],) + shape[2:]
        if isinstance(self.cell, Layer) and not self.cell.built:
            build_sublayer(self.cell, step_shape)
        if self.stateful:
            if shape[0] is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. Found "
                    f"dynamic batch size: sequence.shape={shape}"
                )
            self._create_state_buffers(shape)
        self.built = True

    def _state_shapes(self, sequences_shape):
        batch = sequences_shape[0]
        return [(batch, s) for s in self.state_size]

    def _create_state_buffers(self, sequences_shape):
        dtype = getattr(torch, self.compute_dtype)
        self._state_names = []
        for i, shape in enumerate(self._state_shapes(sequences_shape)):
            name = f"rnn_state_{i}"
            self.register_buffer(name, torch.zeros(shape, dtype=dtype), persistent=False)
            self._state_names.append(name)

    @property
    def states(self):
        """The stored states of a stateful layer (a list of tensors), else None."""
        if not self._state_names:
            return None
        return [self._buffers[n] for n in self._state_names]

    def reset_state(self):
        """Zeroes the states of a stateful layer."""
        for name in self._state_names or ():
            self._buffers[name] = torch.zeros_like(self._buffers[name])

    def reset_states(self):
        """Alias of `reset_state`."""
        self.reset_state()

    def get_initial_state(self, batch_size):
        """Zero initial states for `batch_size` sequences (the cell's own when it defines them)."""
        get_fn = getattr(self.cell, "get_initial_state", None)
        if get_fn is not None:
            states = get_fn(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        dtype = getattr(torch, self.compute_dtype)
        return [torch.zeros((batch_size, s), dtype=dtype) for s in self.state_size]

    # ------------------------------------------------------------------ calling

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if training is None:
            training = self.training
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = torch.as_tensor(mask, device=sequences.device)
            if mask.dtype != torch.bool:
                mask = mask.bool()
        states = self._initial_states(sequences, initial_state)
        last, sequence, states = self._run(sequences, states, mask, training)
        if self._state_names and sequences.device.type != "meta":
            for name, state in zip(self._state_names, states):
                self._buffers[name] = state.detach()
        output = sequence if self.return_sequences else last
        if self.return_state:
            return (output, *states)
        return output

    def _initial_states(self, sequences, initial_state):
        if initial_state is None:
            if self._state_names:
                states = self.states
                if states[0].shape[0] != sequences.shape[0]:
                    raise ValueError(
                        "If an RNN is stateful, the batch size of the input sequences must be "
                        "the same as the batch size of the initial state. \n- Expected batch "
                        f"size: {states[0].shape[0]}\n- Received batch size: {sequences.shape[0]}"
                    )
                return self._states_in(states)
            return None
        nested = isinstance(initial_state, (list, tuple))
        states = list(initial_state) if nested else [initial_state]
        states = nest.map_structure(
            lambda s: torch.as_tensor(s).to(device=sequences.device, dtype=sequences.dtype), states
        )
        return self._states_in(states)

    def _states_in(self, states):
        return states

    def _run(self, sequences, states, mask, training):
        if isinstance(self.cell, RecurrentCell):
            return self._run_builtin(sequences, states, mask, training)
        return self._run_generic(sequences, states, mask, training)

    def _run_builtin(self, sequences, states, mask, training):
        cell = self.cell
        if not training:
            cell._draw_unused_masks(sequences)
        recurrent_dropout = training and 0.0 < cell.recurrent_dropout < 1.0
        use_fused = self.use_cudnn is not False and cell._fused_ok() and not recurrent_dropout
        lengths = None
        if use_fused and mask is not None and sequences.device.type != "meta":
            lengths = None if self.go_backwards else fused.right_padded_lengths(mask)
            use_fused = lengths is not None
        if self.use_cudnn is True and not use_fused:
            raise ValueError(
                "use_cudnn=True was specified, but cuDNN is not supported for this layer "
                "configuration with this backend. Pass use_cudnn='auto' to fallback to a "
                "non-cuDNN implementation."
            )
        if not use_fused:
            inputs, step = cell._loop_parts(sequences, training)
            if states is None:
                states = cell._zero_states(sequences, inputs)
            return run_loop(step, inputs, states, mask, self.go_backwards,
                            self.return_sequences, self.zero_output_for_mask)
        x = sequences
        if training and 0.0 < cell.dropout < 1.0:
            x = x * dropout_mask(x[:, 0], cell.dropout, seed=cell._mask_seed).unsqueeze(1)
        if self.go_backwards:
            x = x.flip(1)
        outputs, states = cell._fused(x, states, lengths)
        if lengths is None:
            return states[0], outputs, states
        if not self.zero_output_for_mask:  # masked steps repeat the last valid output
            outputs = torch.where(mask.unsqueeze(-1), outputs, states[0].unsqueeze(1))
        return outputs[:, -1], outputs, states

    def _run_generic(self, sequences, states, mask, training):
        cell = self.cell
        if states is None:
            states = nest.map_structure(
                lambda s: s.to(device=sequences.device, dtype=sequences.dtype),
                self.get_initial_state(sequences.shape[0]),
            )
        kwargs = {}
        call_fn = cell.call if isinstance(cell, Layer) else getattr(cell, "call")
        if "training" in inspect.signature(call_fn).parameters:
            kwargs["training"] = training
        invoke = cell if callable(cell) else call_fn

        def step(x_t, step_states):
            output, new_states = invoke(x_t, list(step_states), **kwargs)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            return output, list(new_states)

        _reset_dropout_masks(cell)  # one set of masks per call, reused at every step
        with torch.no_grad():
            _prepopulate_dropout_masks(cell, sequences[:, 0], states)
        result = run_loop(step, sequences, states, mask, self.go_backwards,
                          self.return_sequences, self.zero_output_for_mask)
        _reset_dropout_masks(cell)
        return result

    # ------------------------------------------------------------------ shapes, masks, config

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if self.return_sequences:
            output_shape = (batch, length, output_size)
        else:
            output_shape = (batch, output_size)
        if self.return_state:
            states = [
                [(batch, d) for d in s] if isinstance(s, (list, tuple)) else (batch, s)
                for s in self.state_size
            ]
            return (output_shape, *states)
        return output_shape

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask
        while isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
            }
        )
        if not self._owns_cell:
            config["cell"] = serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)
