"""The base of `SimpleRNN`, `LSTM` and `GRU`: an RNN whose built-in cell's weights are its own."""

from keraslike import regularizers
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.recurrent.cell_base import serialize_or_none
from keraslike.layers.recurrent.rnn import RNN


def delegate_to_cell(*names):
    """Class decorator: read-only properties forwarding `names` to `self.cell` (as Keras's)."""

    def decorate(cls):
        for name in names:
            setattr(cls, name, property(lambda self, _n=name: getattr(self.cell, _n)))
        return cls

    return decorate


COMMON_PROPERTIES = (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
)


class BuiltinRNN(RNN):
    """An RNN layer with a built-in cell whose weights it holds under torch's names.

    `state_dict()` keys are those of the matching torch module (`weight_ih_l0`, ...), the
    standard configurations run torch's fused kernels (cuDNN on CUDA), and `get_weights()`
    gives Keras's `[kernel, recurrent_kernel, bias]`.
    """

    _owns_cell = True

    def __init__(self, cell, use_cudnn="auto", **kwargs):
        super().__init__(cell, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. Expected one of "
                f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}"
            )
        self.use_cudnn = use_cudnn

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        if self.built:
            try:
                self.cell._flatten_weights()
            except Exception:  # noqa: BLE001 - an optimization only; cuDNN then copies per call
                pass
        return result

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

    def extra_repr(self):
        return f"name={self.name!r}, units={self.cell.units}"


def make_cell_kwargs(kwargs, name):
    """The layer kwargs a built-in cell shares with its layer (dtype, trainable) and its name."""
    return {
        "dtype": kwargs.get("dtype"),
        "trainable": kwargs.get("trainable", True),
        "name": name,
        "implementation": kwargs.pop("implementation", 2),
    }


def zeros_hx(x, units):
    return x.new_zeros((1, x.shape[0], units))


def as_hx(states, x, units):
    if states is None:
        return zeros_hx(x, units)
    return states[0].unsqueeze(0)

