"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

import numbers

import torch
import torch.nn.functional as F

from keraslike import activations, constraints, initializers, regularizers
from keraslike.backend.errors import ArgumentTypeError, AxisOutOfRangeError
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize


def _check_non_negative(layer, argument, value, allow_none=False):
    if value is None and allow_none:
        return
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        # A non-number is Keras's TypeError (it compares it with 0); also a ValueError.
        error = ValueError if isinstance(value, numbers.Real) else ArgumentTypeError
        raise error(
            f'Invalid value for argument `{argument}` of layer "{layer.name}": expected a '
            f"non-negative float{' or None' if allow_none else ''}. Received: {argument}={value}"
        )


class ReLU(Layer):
    """Rectified linear unit: `max_value` above it, `x` above `threshold`, else
    `negative_slope * (x - threshold)`.

    Args:
        max_value: Non-negative float, the saturation value (`None`: unbounded).
        negative_slope: Non-negative float, the slope below the threshold.
        threshold: Non-negative float, the threshold below which values are damped.

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        _check_non_negative(self, "max_value", max_value, allow_none=True)
        _check_non_negative(self, "negative_slope", negative_slope)
        _check_non_negative(self, "threshold", threshold)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True

    def call(self, inputs):
        return activations.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def _fusion_form(self):
        # What `call` computes, for graph/fusion.py's elementwise rules (re-read per call).
        return ("relu", self.negative_slope, self.max_value, self.threshold)

    _layout_free = True  # graph/layout.py: element by element, any layout

    def _channels_first_call(self, rank):
        return self.call

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_value": self.max_value,
                "negative_slope": self.negative_slope,
                "threshold": self.threshold,
            }
        )
        return config


class LeakyReLU(Layer):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: Non-negative float (default 0.3, Keras 3's; torch's is 0.01). The
            deprecated name `alpha` is accepted.

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            import warnings

            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        super().__init__(**kwargs)
        _check_non_negative(self, "negative_slope", negative_slope)
        self.negative_slope = negative_slope
        self.supports_masking = True

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class PReLU(Layer):
    """Parametric ReLU: `x` for `x >= 0`, `alpha * x` otherwise, with a learned `alpha`.

    `alpha` has the input's shape without the batch axis, with size 1 along `shared_axes`
    (e.g. `shared_axes=[1, 2]` shares one slope per channel across space, like `nn.PReLU(C)`).

    Args:
        alpha_initializer: Initializer of alpha (`"zeros"`).
        alpha_regularizer: Optional penalty on alpha.
        alpha_constraint: Optional constraint on alpha.
        shared_axes: Integer or list of integers (1-based input axes) sharing one alpha.

    Input shape:
        Any. Output shape: same as the input.
    """

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        ndim = len(input_shape)
        param_shape = list(input_shape[1:])
        for i in self.shared_axes or ():
            if not isinstance(i, int) or isinstance(i, bool) or not 1 <= i < ndim:
                raise AxisOutOfRangeError(  # Keras's IndexError (it indexes the shape with it)
                    f'Invalid value for argument `shared_axes` of layer "{self.name}": axis {i} '
                    f"is not a non-batch axis of inputs of shape {tuple(input_shape)} (expected "
                    f"integers in [1, {ndim - 1}]). Received: shared_axes={self.shared_axes}"
                )
            param_shape[i - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(
                f'Layer "{self.name}" needs defined sizes on its non-shared axes. Received: '
                f"input_shape={tuple(input_shape)}, shared_axes={self.shared_axes}"
            )
        self.add_weight(
            shape=param_shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        axes = {}
        if self.shared_axes:
            for i in range(1, ndim):
                if i not in self.shared_axes:
                    axes[i] = input_shape[i]
        self.input_spec = InputSpec(ndim=ndim, axes=axes)
        self.built = True

    def call(self, inputs):
        # Keras's relu(x) - alpha * relu(-x); same values and gradients as Keras at x == 0.
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": _serialize(regularizers, self.alpha_regularizer),
                "alpha_constraint": _serialize(constraints, self.alpha_constraint),
                "shared_axes": self.shared_axes,
            }
        )
        return config


class ELU(Layer):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        alpha: Scale of the negative section (default 1.0).

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


def _large_negative_number(dtype):
    return -3e4 if dtype == torch.float16 else -1e9


class Softmax(Layer):
    """Softmax over `axis`, with optional masking.

    Args:
        axis: Integer or list of integers, the axes to normalize over (default `-1`).

    Call arguments:
        inputs: Logits.
        mask: Optional tensor broadcastable to `inputs` (boolean, or numeric with `> 0.5` meaning
            kept). Masked positions get `-1e9` (`-3e4` in float16) before the softmax and `0`
            after it, as in Keras.

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            if mask.ndim > inputs.ndim or any(
                m != 1 and m != i for m, i in zip(mask.shape[::-1], inputs.shape[::-1])
            ):
                raise ValueError(
                    f'The `mask` given to layer "{self.name}" must be broadcastable to `inputs` '
                    f"(each mask dimension 1 or equal to the input's, no more dimensions). "
                    f"Received: inputs.shape={tuple(inputs.shape)}, mask.shape={tuple(mask.shape)}"
                )
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            fill = torch.full((), _large_negative_number(inputs.dtype), dtype=inputs.dtype,
                              device=inputs.device)
            inputs = torch.where(mask, inputs, fill)
        outputs = activations.softmax(inputs, axis=self.axis)
        if mask is not None:
            outputs = torch.where(mask, outputs, torch.zeros((), dtype=outputs.dtype,
                                                              device=outputs.device))
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
