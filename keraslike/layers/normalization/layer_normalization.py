"""`LayerNormalization`."""

import warnings

import torch
import torch.nn.functional as F

from keraslike import constraints, initializers, regularizers
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize
from keraslike.layers.normalization.normalization_utils import (
    _check_axes,
    _check_defined,
    _LOW_PRECISION,
)


class LayerNormalization(Layer):
    """Normalizes each example over `axis`: `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    Uses `F.layer_norm` when the axes are the trailing dimensions (then `weight`/`bias` load into
    `nn.LayerNorm(normalized_shape)`); other axes use the same math with broadcasting.

    Args:
        axis: Integer or list of integers, the axes to normalize over (default `-1`).
        epsilon: Small float added to the variance.
        center: Whether to add the offset `beta`.
        scale: Whether to multiply by `gamma`.
        rms_scaling: Deprecated (as in Keras): scales by `rsqrt(var + epsilon)` without centering
            and uses only `gamma`. Use `RMSNormalization` instead.
        beta_initializer, gamma_initializer: Initializers of beta (`"zeros"`) and gamma (`"ones"`).
        beta_regularizer, gamma_regularizer: Optional weight penalties.
        beta_constraint, gamma_constraint: Optional weight constraints.

    Input shape:
        Any. Output shape: same as the input.
    """

    _casts_own_mixed_outputs = True  # Keras turns its autocast off and casts its outputs

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
                "scales the input by the variance, not the root mean square. To correctly use "
                "RMS Normalization, please use `keras.layers.RMSNormalization` instead."
            )
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis' of layer "
                f'"{self.name}", but received: {axis!r}'
            )
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape):
        positive = _check_axes(self, self.axis, input_shape)
        _check_defined(self, input_shape, positive)
        # Keras keeps the axes as given, sorted, and shapes the weights in that order.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
        ndim = len(input_shape)
        self._axes = positive
        self._trailing = positive == list(range(ndim - len(positive), ndim))
        self._normalized_shape = tuple(input_shape[a] for a in positive)
        self._broadcast_shape = [1] * ndim
        for a in self.axis:
            self._broadcast_shape[a] = input_shape[a]
        if self.scale or self.rms_scaling:
            self.add_weight(
                shape=shape,
                name="gamma",
                torch_name="weight",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        else:
            self.weight = None
        if self.center and not self.rms_scaling:
            self.add_weight(
                shape=shape,
                name="beta",
                torch_name="bias",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        else:
            self.bias = None
        self.built = True

    def _shaped(self, w, shape, dtype):
        if w is None:
            return None
        w = w if tuple(w.shape) == tuple(shape) else w.reshape(shape)
        return w if w.dtype == dtype else w.to(dtype)

    def call(self, inputs):
        x = inputs.float() if inputs.dtype in _LOW_PRECISION else inputs
        if self.rms_scaling:
            variance = torch.var(x, dim=self._axes, correction=0, keepdim=True)
            out = x * torch.rsqrt(variance + self.epsilon)
            if self.weight is not None:
                out = out * self._shaped(self.weight, self._broadcast_shape, x.dtype)
        elif self._trailing:
            shape = self._normalized_shape
            out = F.layer_norm(
                x, shape, self._shaped(self.weight, shape, x.dtype),
                self._shaped(self.bias, shape, x.dtype), self.epsilon,
            )
        else:
            variance, mean = torch.var_mean(x, dim=self._axes, correction=0, keepdim=True)
            inv = torch.rsqrt(variance + self.epsilon)
            if self.weight is not None:
                inv = inv * self._shaped(self.weight, self._broadcast_shape, x.dtype)
            res = -mean * inv
            if self.bias is not None:
                res = res + self._shaped(self.bias, self._broadcast_shape, x.dtype)
            out = x * inv + res
        # Computed in float32 at least; returned in the compute dtype, as Keras.
        dtype = self._compute_torch_dtype
        return out if out.dtype is dtype else out.to(dtype)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": _serialize(regularizers, self.beta_regularizer),
                "gamma_regularizer": _serialize(regularizers, self.gamma_regularizer),
                "beta_constraint": _serialize(constraints, self.beta_constraint),
                "gamma_constraint": _serialize(constraints, self.gamma_constraint),
            }
        )
        return config
