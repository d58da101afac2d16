"""Bidirectional: runs a recurrent layer forwards and a copy backwards, and merges the outputs."""

import copy

import torch

from keraslike.backend.errors import ArgumentTypeError
from keraslike.layers.layer import Layer, _call_signature
from keraslike.layers.recurrent._serialization import (
    build_sublayer,
    deserialize_layer,
    serialize_layer,
)

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _removeprefix(text, prefix):
    return text[len(prefix):] if text.startswith(prefix) else text


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs (Keras 3's `keras.layers.Bidirectional`).

    The wrapped layer is copied (from its config) into `forward_layer` (named `forward_<name>`)
    and, unless `backward_layer` is given, into `backward_layer` with `go_backwards=True`
    (named `backward_<name>`). The backward outputs are reversed back to input order before
    merging. Weights are the forward layer's, then the backward layer's.

    Args:
        layer: An RNN layer instance (`LSTM`, `GRU`, `SimpleRNN`, `RNN`...).
        merge_mode: How the two outputs combine: `"concat"` (default), `"sum"`, `"mul"`,
            `"ave"`, or `None` (a list of both).
        weights: Optional initial weights (forward half, then backward half).
        backward_layer: Optional RNN layer for the backward direction.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: Optional list: the forward layer's states then the backward layer's.
        mask: Optional `(batch, timesteps)` bool tensor.
        training: Whether dropout is active.

    Example:

    ```python
    x = keras.Input(shape=(5, 10))
    y = keras.layers.Bidirectional(keras.layers.LSTM(10, return_sequences=True))(x)
    # y.shape == (None, 5, 20)
    ```
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        if backward_layer is None and not hasattr(layer, "return_sequences"):
            # Keras fails rebuilding it with `go_backwards=True` (a TypeError); say why instead.
            raise ArgumentTypeError(
                "`Bidirectional` wraps a recurrent layer (LSTM, GRU, SimpleRNN, RNN, ...), "
                f'which it runs forwards and backwards. Received: {type(layer).__name__} layer '
                f'"{layer.name}"'
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "`backward_layer` need to be a `keras.layers.Layer` instance. "
                f"Received: {backward_layer}"
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        config = serialize_layer(layer)
        config["config"]["name"] = f"forward_{_removeprefix(layer.name, 'forward_')}"
        self.forward_layer = deserialize_layer(config)
        if backward_layer is None:
            config = serialize_layer(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = f"backward_{_removeprefix(layer.name, 'backward_')}"
            self.backward_layer = deserialize_layer(config)
        else:
            self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. "
                f"Received: forward_layer.go_backwards {self.forward_layer.go_backwards}, "
                f"backward_layer.go_backwards={self.backward_layer.go_backwards}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            forward_value = getattr(self.forward_layer, attr)
            backward_value = getattr(self.backward_layer, attr)
            if forward_value != backward_value:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value for "
                    f'attribute "{attr}", got "{forward_value}" for forward layer and '
                    f'"{backward_value}" for backward layer'
                )

    def build(self, sequences_shape):
        shape = tuple(sequences_shape)
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                build_sublayer(sub, shape)
        if self._initial_weights is not None:
            half = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:half])
            self.backward_layer.set_weights(self._initial_weights[half:])
            self._initial_weights = None
        self.built = True

    def _sub_kwargs(self, layer, training, mask):
        takes_training, takes_mask, _ = _call_signature(type(layer))
        kwargs = {}
        if takes_training:
            kwargs["training"] = training
        if takes_mask:
            kwargs["mask"] = mask
        return kwargs

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if training is None:
            training = self.training
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        else:
            forward_state = backward_state = None
        y = self.forward_layer(
            sequences, initial_state=forward_state,
            **self._sub_kwargs(self.forward_layer, training, mask),
        )
        y_rev = self.backward_layer(
            sequences, initial_state=backward_state,
            **self._sub_kwargs(self.backward_layer, training, mask),
        )
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode == "concat":
            output = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            if self.merge_mode is None:
                return output + states
            return (output,) + states
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        state_shape = ()
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = tuple(output_shape[:-1]) + (output_shape[-1] * 2,)
        elif self.merge_mode is None:
            output_shape = (tuple(output_shape), tuple(output_shape))
        if self.return_state:
            if self.merge_mode is None:
                return output_shape + state_shape + state_shape
            return (tuple(output_shape),) + state_shape + state_shape
        return tuple(output_shape)

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            output_mask = (mask, mask) if not self.merge_mode else mask
        else:
            output_mask = (None, None) if not self.merge_mode else None
        if self.return_state and self.states is not None:
            state_mask = tuple(None for _ in self.states)
            if isinstance(output_mask, tuple):
                return output_mask + state_mask * 2
            return (output_mask,) + state_mask * 2
        return output_mask

    @property
    def states(self):
        """The stored states of both stateful layers, or None."""
        forward, backward = self.forward_layer.states, self.backward_layer.states
        if forward and backward:
            return tuple(forward + backward)
        return None

    def reset_state(self):
        """Zeroes the states of both (stateful) layers."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """Alias of `reset_state`."""
        self.reset_state()

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "merge_mode": self.merge_mode,
                "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer),
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize_layer(backward, custom_objects)
        return cls(**config)
